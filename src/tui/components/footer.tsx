import { Box, Text } from 'ink';
import { memo, type ReactNode } from 'react';
import { cleanText } from '../transcript.js';
import { COMMON_KEYS, keysFor, type KeyContext } from '../keymap.js';
import type { Mode, Status } from '../ui.js';
import { Styled } from '../theme.js';

/** The keys of what has focus (mutating ones hidden with --readonly), and the line above it: a prompt, a status or an error with its hint. */

export const Footer = memo(function Footer({ context, readonly, width }: { context: KeyContext; readonly: boolean; width: number }) {
  const panes = context !== 'run' && context !== 'sandbox-runs';
  const keys = [...keysFor(context, readonly), ...(panes ? [{ key: 'Tab', label: 'pane' }] : []), ...COMMON_KEYS];
  return (
    <Box height={1} width={width}>
      <Text wrap="truncate-end">
        {keys.map((k, i) => (
          <Text key={i}>
            {i > 0 ? '  ' : ''}
            <Styled style="accent">{k.key}</Styled> {k.label}
          </Text>
        ))}
        {readonly ? (
          <Text>
            {'  '}
            <Styled style="warn">read-only: actions hidden</Styled>
          </Text>
        ) : null}
      </Text>
    </Box>
  );
});

/** Lines the status area takes: two for an error with a hint. */
export function statusHeight(mode: Mode, status: Status | undefined): number {
  return mode.kind === 'normal' && status?.kind === 'error' && status.error.hint ? 2 : 1;
}

export interface StatusLineProps {
  mode: Mode;
  status: Status | undefined;
  notice: { level: 'info' | 'warn' | 'error'; text: string } | undefined;
  width: number;
}

const one = (s: string): string => cleanText(s).replace(/\s+/g, ' ').trim();

export const StatusLine = memo(function StatusLine({ mode, status, notice, width }: StatusLineProps) {
  const line = (content: ReactNode) => (
    <Box height={1} width={width}>
      <Text wrap="truncate-end">{content}</Text>
    </Box>
  );
  switch (mode.kind) {
    case 'filter':
      return line(
        <>
          <Styled style="accent">/</Styled>
          {one(mode.text)}
          <Styled style="dim">▏ Enter keeps · Esc drops</Styled>
        </>,
      );
    case 'command':
      return line(
        <>
          <Styled style="accent">:</Styled>
          {one(mode.text)}
          <Styled style="dim">▏ gateways routes sandboxes runs logs help q</Styled>
        </>,
      );
    case 'confirm':
      return line(
        <>
          <Styled style="warn">{one(mode.question)}</Styled> <Styled style="bold">[y/N]</Styled>
        </>,
      );
    case 'form': {
      const f = mode.form.fields[mode.form.index];
      return line(
        <>
          <Styled style="accent">{`${f?.label ?? ''}: `}</Styled>
          {one(f?.value ?? '')}
          <Styled style="dim">▏ Enter {mode.form.index < mode.form.fields.length - 1 ? 'next' : 'go'} · Esc cancel</Styled>
        </>,
      );
    }
    default:
      break;
  }
  if (status?.kind === 'error') {
    const e = status.error;
    return (
      <Box flexDirection="column" height={e.hint ? 2 : 1} width={width}>
        <Text wrap="truncate-end">
          <Styled style="err">{`✗ ${one(e.code)}: ${one(e.message)}`}</Styled>
        </Text>
        {e.hint ? (
          <Text wrap="truncate-end">
            <Styled style="dim">{`  hint: ${one(e.hint)}`}</Styled>
          </Text>
        ) : null}
      </Box>
    );
  }
  if (status) return line(<Styled style={status.kind === 'busy' ? 'warn' : undefined}>{one(status.text)}</Styled>);
  if (notice) return line(<Styled style={notice.level === 'error' ? 'err' : notice.level === 'warn' ? 'warn' : 'dim'}>{one(notice.text)}</Styled>);
  return line('');
});
