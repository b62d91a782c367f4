import { describe, expect, it } from 'vitest';
import {
  compareVersions,
  parseErrorText,
  parseInferenceGet,
  parsePolicyList,
  parseProviderGet,
  parseVersion,
  stripAnsi,
} from '../../src/adapters/openshell/parse.js';
import { imageTagForVersion } from '../../src/core/versions.js';

// Fixtures in the shapes openshell-cli.md documents: colour codes even when piped, miette errors.
const E = '\u001b';
const dim = (s: string) => `${E}[2m${s}${E}[0m`;
const bold = (s: string) => `${E}[1m${s}${E}[0m`;

describe('stripAnsi', () => {
  it('removes colour and cursor sequences, keeps text and padding', () => {
    expect(stripAnsi(`${E}[32m* ${E}[0m${E}[1mlogos${E}[0m  http://127.0.0.1:17670`)).toBe('* logos  http://127.0.0.1:17670');
    expect(stripAnsi('plain')).toBe('plain');
  });
});

describe('versions', () => {
  it.each([
    ['openshell 0.0.111\n', '0.0.111'],
    ['openshell 0.0.112-dev.7+g2f7fb6559', '0.0.112-dev.7+g2f7fb6559'],
    [`${bold('openshell')} 0.0.95`, '0.0.95'],
    ['garbage', undefined],
  ])('parseVersion(%j) = %s', (text, v) => expect(parseVersion(text)).toBe(v));

  it.each([
    ['0.0.111', '0.0.95', 1],
    ['0.0.90', '0.0.95', -1],
    ['0.0.95', '0.0.95', 0],
    ['0.0.112-dev.7+g2f7', '0.0.112', 0],
    ['0.1.0', '0.0.999', 1],
  ])('compareVersions(%s, %s) = %d', (a, b, want) => expect(compareVersions(a, b)).toBe(want));

  it('pins docker tags without build metadata', () => {
    expect(imageTagForVersion('0.0.111')).toBe('0.0.111');
    expect(imageTagForVersion('0.0.112-dev.7+g2f7fb6559')).toBe('0.0.112-dev.7');
  });
});

describe('parseErrorText', () => {
  it.each([
    [
      "Error:   × code: 'Some requested entity was not found', message: \"sandbox not found\"\n",
      "code: 'Some requested entity was not found', message: \"sandbox not found\"",
    ],
    [
      "Error:   × Unknown gateway 'lab'.\n  │ Register it first: openshell gateway add <endpoint> --name lab\n  │ Or list available gateways: openshell gateway select\n",
      "Unknown gateway 'lab'. Register it first: openshell gateway add <endpoint> --name lab Or list available gateways: openshell gateway select",
    ],
    [
      "Error:   × failed to connect to gateway 'logos' at http://127.0.0.1:17670.\n  ╰─▶ tcp connect error: Connection refused (os error 111)\n",
      "failed to connect to gateway 'logos' at http://127.0.0.1:17670. tcp connect error: Connection refused (os error 111)",
    ],
    ["error: unexpected argument '--image' found\n\nUsage: openshell sandbox create [OPTIONS]\n\nFor more information, try '--help'.\n", "unexpected argument '--image' found"],
    [`${E}[31mError:${E}[0m   × provider already exists\n`, 'provider already exists'],
  ])('%#', (stderr, want) => expect(parseErrorText(stderr)).toBe(want));
});

describe('parseProviderGet (no JSON for this command)', () => {
  it('reads the documented block, coloured or not', () => {
    const text = [
      bold('Provider:'),
      `  ${dim('Id:')} 7c1e…`,
      `  ${dim('Name:')} logos-openai`,
      `  ${dim('Type:')} openai`,
      `  ${dim('Resource version:')} 3`,
      `  ${dim('Credential keys:')} OPENAI_API_KEY`,
      `  ${dim('Config keys:')} OPENAI_BASE_URL, EXTRA`,
      '',
    ].join('\n');
    expect(parseProviderGet(text)).toEqual({ id: '7c1e…', name: 'logos-openai', type: 'openai', credentialKeys: ['OPENAI_API_KEY'], configKeys: ['OPENAI_BASE_URL', 'EXTRA'] });
    expect(parseProviderGet('Provider:\n  Name: x\n  Type: anthropic\n  Credential keys: <none>\n  Config keys: <none>\n')).toMatchObject({ credentialKeys: [], configKeys: [] });
    expect(parseProviderGet('nothing here')).toBeUndefined();
  });
});

describe('parseInferenceGet (no JSON for this command)', () => {
  it('reads both blocks', () => {
    const text = [
      bold('Inference:'),
      `  ${dim('Workspace:')} qwen-qwen3-5-9b`,
      `  ${dim('Route:')} inference.local`,
      `  ${dim('Provider:')} logos-lmstudio`,
      `  ${dim('Model:')} qwen/qwen3.5-9b`,
      `  ${dim('Version:')} 2`,
      `  ${dim('Timeout:')} 600s`,
      '',
      bold('System inference:'),
      '  Not configured',
    ].join('\n');
    expect(parseInferenceGet(text)).toEqual({
      inference: { workspace: 'qwen-qwen3-5-9b', provider: 'logos-lmstudio', model: 'qwen/qwen3.5-9b', version: '2', timeout: '600s' },
    });
  });
  it('returns nothing when not configured', () => {
    expect(parseInferenceGet('Inference:\n  Not configured\n\nSystem inference:\n  Not configured\n')).toEqual({});
  });
});

describe('parsePolicyList (no JSON for this command)', () => {
  it('reads the fixed columns with epoch-ms CREATED and a cut error', () => {
    const text = [
      'VERSION  HASH           STATUS       CREATED                  ERROR',
      '3        a1b2c3d4e5f6   Failed       1763700000000            landlock policy cannot be changed on a l',
      '2        0f0e0d0c0b0a   Loaded       1763600000000            ',
      '',
    ].join('\n');
    expect(parsePolicyList(text)).toEqual([
      { version: 3, hash: 'a1b2c3d4e5f6', status: 'Failed', createdMs: 1763700000000, error: 'landlock policy cannot be changed on a l' },
      { version: 2, hash: '0f0e0d0c0b0a', status: 'Loaded', createdMs: 1763600000000, error: '' },
    ]);
  });
});
