import { Box, Text } from 'ink';
import { memo } from 'react';
import { CONTEXT_KEYS, NAV_HELP, type KeyContext } from '../keymap.js';
import { Styled } from '../theme.js';

/** `?`: every key, by view. With --readonly the actions are left out, and it says so. */

const SECTIONS: Array<[string, KeyContext]> = [
  ['Gateways', 'gateways'],
  ['Routes', 'routes'],
  ['Sandboxes', 'sandboxes'],
  ['A sandbox', 'sandbox-runs'],
  ['Runs', 'runs'],
  ['Log', 'log'],
  ['A run', 'run'],
];

export const Help = memo(function Help({ readonly, height, width }: { readonly: boolean; height: number; width: number }) {
  return (
    <Box flexDirection="column" height={height} width={width} overflow="hidden">
      <Text wrap="truncate-end">
        <Styled style="bold">Keys</Styled>
        <Styled style="dim">{readonly ? '  (read-only: the actions that change things are hidden)' : '  (destructive actions ask first)'}  Esc closes</Styled>
      </Text>
      {NAV_HELP.map((k, i) => (
        <Text key={`n${i}`} wrap="truncate-end">
          {'  '}
          <Styled style="accent">{k.key.padEnd(10)}</Styled>
          {k.label}
        </Text>
      ))}
      {SECTIONS.map(([title, ctx]) => {
        const keys = CONTEXT_KEYS[ctx].filter((k) => !(readonly && k.mutates));
        return (
          <Text key={ctx} wrap="truncate-end">
            {'  '}
            <Styled style="focusTitle">{title.padEnd(10)}</Styled>
            {keys.map((k, i) => (
              <Text key={i}>
                {i > 0 ? ' · ' : ''}
                <Styled style="accent">{k.key}</Styled> {k.label}
              </Text>
            ))}
          </Text>
        );
      })}
    </Box>
  );
});
