/** Unit-file texts exercising the corners of systemd's syntax; every one must round-trip byte for byte. */
export interface Fixture {
  name: string;
  text: string;
  /** Expected assignments per section: [key, value, line where the assignment starts]. */
  entries: Record<string, [string, string, number][]>;
}

export const FIXTURES: Fixture[] = [
  {
    name: 'plain container',
    text: '[Unit]\nDescription=Web server\n\n[Container]\nImage=docker.io/library/nginx:latest\nPublishPort=8080:80\nPublishPort=8443:443\n\n[Install]\nWantedBy=default.target\n',
    entries: {
      Unit: [['Description', 'Web server', 2]],
      Container: [['Image', 'docker.io/library/nginx:latest', 5], ['PublishPort', '8080:80', 6], ['PublishPort', '8443:443', 7]],
      Install: [['WantedBy', 'default.target', 10]],
    },
  },
  {
    name: 'whitespace around "=" and at the ends is trimmed, inner whitespace kept',
    text: '[A]\n  Key  =   some  value\t \n\tOther=\tx\n',
    entries: { A: [['Key', 'some  value', 2], ['Other', 'x', 3]] },
  },
  {
    name: '";" and "#" inside a value are part of it',
    text: '[A]\nExec=sh -c "echo a; echo b" # not a comment\nX=;y\n',
    entries: { A: [['Exec', 'sh -c "echo a; echo b" # not a comment', 2], ['X', ';y', 3]] },
  },
  {
    name: 'comments with "#" and ";", also indented',
    text: '# top\n; also top\n[A]\n# c1\n  ; c2\n\t# c3\nK=v\n',
    entries: { A: [['K', 'v', 7]] },
  },
  {
    name: 'continuation: the backslash becomes a space, the next line is appended as is',
    text: '[Service]\nExecStart=/bin/echo one \\\n    two\\\n three\nNext=1\n',
    entries: { Service: [['ExecStart', '/bin/echo one      two  three', 2], ['Next', '1', 5]] },
  },
  {
    name: 'comment lines inside a continuation are skipped (also ones ending in a backslash)',
    text: '[Service]\nExecStart=/a \\\n# comment \\\n  ; another\n  b \\\n  c\nK=v\n',
    entries: { Service: [['ExecStart', '/a    b    c', 2], ['K', 'v', 7]] },
  },
  {
    name: 'an empty line ends a continuation',
    text: '[A]\nK=a \\\n\nL=b\n',
    entries: { A: [['K', 'a', 2], ['L', 'b', 4]] },
  },
  {
    name: 'an even number of trailing backslashes does not continue',
    text: '[A]\nK=a\\\\\nL=b\\\\\\\nM=c\n',
    entries: { A: [['K', 'a\\\\', 2], ['L', 'b\\\\ M=c', 3]] },
  },
  {
    name: 'continuation at the end of the file',
    text: '[A]\nK=a\\',
    entries: { A: [['K', 'a', 2]] },
  },
  {
    name: 'CRLF line endings',
    text: '[Unit]\r\nDescription=x\r\n\r\n[Container]\r\nExec=a \\\r\n  b\r\nImage=i\r\n',
    entries: { Unit: [['Description', 'x', 2]], Container: [['Exec', 'a    b', 5], ['Image', 'i', 7]] },
  },
  {
    name: 'a lone CR ends a line too (systemd read_line)',
    text: '[A]\rK=1\rL=2\n',
    entries: { A: [['K', '1', 2], ['L', '2', 3]] },
  },
  {
    name: 'byte order mark at the start',
    text: '\uFEFF[Unit]\nDescription=bom\n',
    entries: { Unit: [['Description', 'bom', 2]] },
  },
  {
    name: 'UTF-8 in keys, values and section names; NBSP is not whitespace',
    text: '[Ünit]\nDescription=Grüße 🚢\nX=\u00a0padded\u00a0\n',
    entries: { 'Ünit': [['Description', 'Grüße 🚢', 2], ['X', '\u00a0padded\u00a0', 3]] },
  },
  {
    name: 'repeated keys and empty resets are all kept in order',
    text: '[Container]\nVolume=a:/a\nVolume=\nVolume=b:/b\n',
    entries: { Container: [['Volume', 'a:/a', 2], ['Volume', '', 3], ['Volume', 'b:/b', 4]] },
  },
  {
    name: 'a section appearing twice; keys are case-sensitive',
    text: '[A]\nk=1\n[B]\nx=2\n[A]\nK=3\n',
    entries: { A: [['k', '1', 2], ['K', '3', 6]], B: [['x', '2', 4]] },
  },
  {
    name: 'section names keep inner spaces; "=" in the value; empty file end without newline',
    text: '[ Odd Name ]\nEnvironment=A=b=c\nK = ',
    entries: { ' Odd Name ': [['Environment', 'A=b=c', 2], ['K', '', 3]] },
  },
  {
    name: 'no trailing newline, indented header, trailing blank lines',
    text: '  [A]  \nK=v\n\n\n',
    entries: { A: [['K', 'v', 2]] },
  },
  {
    name: 'empty file',
    text: '',
    entries: {},
  },
  {
    name: 'only comments',
    text: '# just a comment\n;another\n',
    entries: {},
  },
];
