import { fedsegCli } from './fedseg-cli';

fedsegCli(process.argv.slice(2), { out: (l) => console.log(l), err: (l) => console.error(l) }).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`fedseg: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
