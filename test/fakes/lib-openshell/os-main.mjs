// Entry point of the fake `openshell`: parses argv and dispatches to the command handlers.
import fs from 'node:fs';
import { Exit, logInvocation } from './common.mjs';
import { parse } from './clap.mjs';
import { ROOT, GLOBAL_FLAGS } from './os-spec.mjs';
import { Ctx, OsError, PROG, grpcError, renderMiette } from './os-core.mjs';
import * as gatewayCmds from './os-gateway.mjs';
import * as sandboxCmds from './os-sandbox.mjs';
import * as resourceCmds from './os-resources.mjs';
import * as policyCmds from './os-policy.mjs';
import * as profileCmds from './os-profiles.mjs';

const HANDLERS = {
  ...gatewayCmds,
  ...sandboxCmds,
  ...resourceCmds,
  ...policyCmds,
  ...profileCmds,
  notImplemented: async (ctx) => {
    process.stderr.write(
      `fake openshell: '${ctx.path.join(' ')}' is not implemented by the test double (test/fakes/lib-openshell)\n`,
    );
    return 3;
  },
};

export async function main(argv) {
  const version = process.env.FAKE_OPENSHELL_VERSION || '0.0.111';
  if (!process.env.FAKE_OPENSHELL_STATE) {
    process.stderr.write(
      'fake openshell: FAKE_OPENSHELL_STATE is not set. Point it at a temporary directory ' +
        '(test/helpers/fake-cli.ts makeFakeEnv() does this).\n',
    );
    process.exitCode = 3;
    return;
  }
  fs.mkdirSync(process.env.FAKE_OPENSHELL_STATE, { recursive: true });
  logInvocation('openshell', process.env.FAKE_OPENSHELL_STATE);

  // `--workspace` and OPENSHELL_WORKSPACE only exist from v0.0.95.
  let code;
  try {
    const parsed = parse(argv, { prog: PROG, root: ROOT, globalFlags: GLOBAL_FLAGS, version });
    const ctx = new Ctx(parsed, version);
    // FAKE_OPENSHELL_FAIL="inference set,provider create": the gateway answers those commands
    // with a server-side failure (gRPC Internal), as a real gateway does when its store breaks.
    const failing = (process.env.FAKE_OPENSHELL_FAIL || '').split(',').map((s) => s.trim()).filter(Boolean);
    if (failing.includes(parsed.path.join(' '))) {
      throw grpcError('Internal', `${parsed.path.join(' ')} failed: database is locked`);
    }
    const handler = HANDLERS[parsed.node.run];
    if (!handler) throw new Error(`no handler for ${parsed.node.run}`);
    code = (await handler(ctx)) ?? 0;
  } catch (e) {
    if (e instanceof Exit) {
      if (e.stdoutText) process.stdout.write(e.stdoutText);
      if (e.stderrText && e.exitCode !== 0) process.stderr.write(e.stderrText);
      code = e.exitCode;
    } else if (e instanceof OsError) {
      process.stderr.write(renderMiette(e));
      code = e.exitCode;
    } else {
      process.stderr.write(`fake openshell: internal error: ${e?.stack ?? e}\n`);
      code = 70;
    }
  }
  process.exitCode = code;
}
