/**
 * Where everything lives on disk. One place, so repair, gc and the writers agree.
 *
 *   <root>/images/blobs/sha256/<hex>      verified blobs (manifests, configs, layer tarballs)
 *   <root>/images/partial/<hex>           interrupted downloads kept for Range resume
 *   <root>/images/tmp/                    temps of atomic writes (named <pid>-<boot>-<rand>)
 *   <root>/images/images.json             the image index (one JSON document, replaced atomically)
 *   <root>/images/pins/<pid>-<boot>.json  blobs/layers an in-flight pull relies on (gc keeps them)
 *   <root>/layers/<chainhex>/diff         an unpacked layer; <chainhex>/layer.json marks it complete
 *   <root>/layers/l/<short>               symlink -> ../<chainhex>/diff (short overlay lowerdir names)
 *   <root>/layers/empty                   an empty lower layer (overlay needs two lowers without upper)
 *   <root>/layers/tmp/                    layers being unpacked
 *   <root>/locks/ranges.lock              one byte per lock, F_OFD_SETLK (locks.ts); without perl:
 *   <root>/locks/<name>.lock              flock(2) lock files, each deleted by its holder on release
 *   <runroot>/image-mounts/<id>/merged    `berth image mount` mount points (+ count file)
 */
import path from 'node:path';
import type { StoragePaths } from '../../paths/index.js';

export interface StoreLayout {
  paths: StoragePaths;
  imagesDir: string;
  blobsDir: string;
  partialDir: string;
  imagesTmp: string;
  indexFile: string;
  pinsDir: string;
  layersDir: string;
  linksDir: string;
  emptyLayer: string;
  layersTmp: string;
  locksDir: string;
  mountsDir: string;
}

export function storeLayout(paths: StoragePaths): StoreLayout {
  const imagesDir = path.join(paths.root, 'images');
  const layersDir = path.join(paths.root, 'layers');
  return {
    paths,
    imagesDir,
    blobsDir: path.join(imagesDir, 'blobs', 'sha256'),
    partialDir: path.join(imagesDir, 'partial'),
    imagesTmp: path.join(imagesDir, 'tmp'),
    indexFile: path.join(imagesDir, 'images.json'),
    pinsDir: path.join(imagesDir, 'pins'),
    layersDir,
    linksDir: path.join(layersDir, 'l'),
    emptyLayer: path.join(layersDir, 'empty'),
    layersTmp: path.join(layersDir, 'tmp'),
    locksDir: path.join(paths.root, 'locks'),
    mountsDir: path.join(paths.runroot, 'image-mounts'),
  };
}

export function layerDir(layout: StoreLayout, chainHex: string): string {
  return path.join(layout.layersDir, chainHex);
}

export function layerDiffDir(layout: StoreLayout, chainHex: string): string {
  return path.join(layout.layersDir, chainHex, 'diff');
}
