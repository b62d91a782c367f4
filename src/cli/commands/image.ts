import type { Command } from 'commander';
import { templateFile, packageVersion } from '../../adapters/assets.js';
import { LogosError } from '../../core/errors.js';
import {
  COMMUNITY_BASE_IMAGE,
  SANDBOX_IMAGE_REPO,
  formatBytes,
  imageBuild,
  imagePull,
  imagePush,
  localSandboxImage,
  type ImageContext,
} from '../../core/images.js';
import { openConfigStore } from '../../store/config.js';
import type { App } from '../../app/context.js';
import { colors, printFields, printJson, printLine, table } from '../io.js';
import type { CommandEnv } from '../main.js';
import { app, setJson, type JsonOpt } from '../shared.js';

/**
 * `logos image`: the sandbox image OpenShell sandboxes are made from (templates/sandbox.Dockerfile:
 * node, sh, bash, tar, git, coreutils, user sandbox). Built and pushed with docker; the
 * reference new sandboxes use is `sandboxImage` in config, pinned by digest.
 */

async function imageCtx(env: CommandEnv, a: App, quiet: boolean): Promise<ImageContext> {
  const { hostResources } = await import('../../adapters/host/resources.js');
  const ce = colors(env.io, 'err');
  // Progress (docker's own lines) only for a person watching a terminal.
  const progress = !quiet && env.io.errTTY ? (l: string) => env.io.err.write(`${ce.dim(l)}\n`) : undefined;
  return {
    docker: a.docker(),
    resources: hostResources,
    needDiskBytes: a.config.imageMinFreeDiskBytes,
    needMemBytes: a.config.imageMinFreeMemBytes,
    dockerfile: templateFile('sandbox.Dockerfile'),
    context: templateFile(''),
    logosVersion: packageVersion(),
    ...(progress ? { progress } : {}),
  };
}

async function pin(a: App, ref: string): Promise<void> {
  const store = await openConfigStore(a.paths);
  store.set('sandboxImage', ref);
  a.logger.info('sandbox image pinned', { image: ref });
}

export function registerImage(program: Command, env: CommandEnv): void {
  const image = program.command('image').description("The sandbox image for OpenShell sandboxes (node, sh, tar, git, coreutils): build, push, pin by digest");
  image.addHelpText(
    'after',
    `
Examples:
  $ logos image build                                      # logos-sandbox:${'<version>'} for a gateway on this machine
  $ logos image push registry.example.org/team/logos-sandbox:0.1.0   # for remote gateways; pins it by digest
  $ logos image pull registry.example.org/team/logos-sandbox:0.1.0   # on another machine; pins it by digest
  $ logos image status

OpenShell 0.1.x sandboxes need it (the default OpenShell image has no Node); 0.0.x ones use the
community base image unless sandboxImage is set. Build and pull check free disk and memory first.`,
  );

  image
    .command('build')
    .description(`Build templates/sandbox.Dockerfile as ${SANDBOX_IMAGE_REPO}:<logos version> with docker`)
    .option('-t, --tag <ref>', 'another tag for it')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt & { tag?: string }) => {
      setJson(env, opts);
      const a = await app(env);
      const res = await imageBuild(await imageCtx(env, a, !!opts.json), opts.tag ? { tag: opts.tag } : {});
      if (opts.json) printJson(env.io, { ok: true, image: res.ref, id: res.id, size_bytes: res.size });
      else printLine(env.io, `${colors(env.io).green('✓')} Built ${res.ref} (${res.id.slice(0, 19)}, ${formatBytes(res.size)})`);
    });

  image
    .command('pull')
    .description('Pull an image and make it the one new OpenShell sandboxes use, pinned by digest')
    .argument('<ref>', 'image reference, e.g. registry.example.org/team/logos-sandbox:0.1.0')
    .option('--no-pin', 'only pull; leave sandboxImage as it is')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts: JsonOpt & { pin: boolean }) => {
      setJson(env, opts);
      const a = await app(env);
      const res = await imagePull(await imageCtx(env, a, !!opts.json), { ref });
      if (opts.pin) await pin(a, res.pinned);
      if (opts.json) printJson(env.io, { ok: true, image: res.ref, pinned: res.pinned, sandbox_image: opts.pin ? res.pinned : a.config.sandboxImage || null });
      else printLine(env.io, `${colors(env.io).green('✓')} Pulled ${res.ref}${opts.pin ? `; new OpenShell sandboxes use ${res.pinned}` : ` (${res.pinned})`}`);
    });

  image
    .command('push')
    .description('Push the local build to a registry remote gateways can pull from, and pin it by digest')
    .argument('<ref>', 'where to push, e.g. registry.example.org/team/logos-sandbox:0.1.0')
    .option('--source <ref>', `local image to push (default ${SANDBOX_IMAGE_REPO}:<logos version>)`)
    .option('--no-pin', 'only push; leave sandboxImage as it is')
    .option('--json', 'print JSON')
    .action(async (ref: string, opts: JsonOpt & { source?: string; pin: boolean }) => {
      setJson(env, opts);
      const a = await app(env);
      const res = await imagePush(await imageCtx(env, a, !!opts.json), { dest: ref, ...(opts.source ? { source: opts.source } : {}) });
      if (opts.pin) await pin(a, res.pinned);
      if (opts.json) printJson(env.io, { ok: true, image: res.ref, pinned: res.pinned });
      else printLine(env.io, `${colors(env.io).green('✓')} Pushed ${res.ref}${opts.pin ? `; new OpenShell sandboxes use ${res.pinned}` : ` (${res.pinned})`}`);
    });

  image
    .command('status')
    .description('Which image new OpenShell sandboxes use, and whether it is here')
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const docker = a.docker();
      const local = localSandboxImage(packageVersion());
      const configured = a.config.sandboxImage;
      const dockerUp = await docker.engineVersion().then(
        () => true,
        () => false,
      );
      const localInfo = dockerUp ? await docker.imageInfo(local).catch(() => undefined) : undefined;
      const cli = await a
        .openshell()
        .cli()
        .catch((err: unknown) => (err instanceof LogosError ? err : undefined));
      const line = cli && !(cli instanceof LogosError) ? cli.line : undefined;
      const use01 = configured || local;
      const use00 = configured || COMMUNITY_BASE_IMAGE;
      const ready01 = configured ? true : !!localInfo;
      const out = {
        sandbox_image: configured || null,
        pinned: configured ? configured.includes('@sha256:') : null,
        local_build: { image: local, present: !!localInfo, ...(localInfo ? { id: localInfo.id, size_bytes: localInfo.size } : {}) },
        openshell: cli instanceof LogosError ? { error: cli.message } : cli ? { version: cli.version, line: cli.line } : null,
        uses: { '0.0': use00, '0.1': use01 },
        ready: line === '0.1' ? ready01 : true,
        docker: dockerUp,
      };
      if (opts.json) {
        printJson(env.io, out);
        return;
      }
      const c = colors(env.io);
      printFields(
        env.io,
        [
          ['Configured', configured ? `${configured}${out.pinned ? '' : ' (not pinned by digest)'}` : 'none (the default for the line)'],
          ['Local build', localInfo ? `${local} (${localInfo.id.slice(0, 19)}, ${formatBytes(localInfo.size)})` : `${local} not built${dockerUp ? '' : ' (docker not reachable)'}`],
          ['OpenShell', cli instanceof LogosError ? cli.message : cli ? `${cli.version} (${cli.line}.x)` : 'not installed'],
          ['0.0.x uses', use00],
          ['0.1.x uses', use01],
        ],
        12,
      );
      if (line === '0.1' && !ready01) printLine(env.io, `${c.yellow('!')} Build it with \`logos image build\` before creating OpenShell sandboxes.`);
    });

  image
    .command('list')
    .description(`Local ${SANDBOX_IMAGE_REPO} images, and the configured one`)
    .option('--json', 'print JSON')
    .action(async (opts: JsonOpt) => {
      setJson(env, opts);
      const a = await app(env);
      const docker = a.docker();
      await docker.engineVersion();
      const rows = await docker.listImages(SANDBOX_IMAGE_REPO);
      const configured = a.config.sandboxImage;
      if (opts.json) {
        printJson(env.io, { images: rows, sandbox_image: configured || null });
        return;
      }
      if (rows.length === 0) printLine(env.io, `No ${SANDBOX_IMAGE_REPO} images here. Build one with \`logos image build\`.`);
      else printLine(env.io, table(rows.map((r) => [r.ref, r.id, r.size, r.created]), ['IMAGE', 'ID', 'SIZE', 'CREATED']));
      if (configured) printLine(env.io, `New OpenShell sandboxes use ${configured} (sandboxImage).`);
    });

  image.action(() => {
    throw new LogosError('USAGE', 'Missing subcommand.', { hint: 'Try `logos image status` or `logos image --help`.' });
  });
}
