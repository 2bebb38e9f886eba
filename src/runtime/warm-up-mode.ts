/**
 * Set only by the build's code-cache warm-up (warm-up.ts): the scratch dir that stands in for a
 * container's overlay, and the sign that no crun may run. Its own module so that rootfs.ts and
 * seccomp-cache.ts need not import the warm-up (which imports them).
 */
export const warmUpMode: { rootfs?: string } = {};
