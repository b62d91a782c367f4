import { Box, Text } from 'ink';
import { memo } from 'react';
import { cell, uptime } from '../format.js';
import type { Snapshot } from '../model.js';
import { Styled } from '../theme.js';

/** Where the data comes from (the daemon, or the files when there is none), and the breadcrumbs of the view. */

export interface HeaderProps {
  mode: 'daemon' | 'files';
  daemon: Snapshot['daemon'] | undefined;
  /** Seconds since the snapshot was taken (uptime moves on between snapshots). */
  since: number;
  readonly: boolean;
  crumbs: readonly string[];
  width: number;
}

function sourceText(mode: 'daemon' | 'files', d: Snapshot['daemon'] | undefined, since: number): { text: string; style: 'ok' | 'warn' | 'dim' } {
  if (mode === 'files') return { text: 'no daemon: reading files, updated every second', style: 'warn' };
  if (!d) return { text: 'connecting to the daemon…', style: 'dim' };
  if (!d.running) return { text: `daemon not running${d.detail ? `: ${cell(d.detail, 60)}` : ''}`, style: 'warn' };
  const parts = ['daemon running'];
  if (d.version) parts.push(`v${cell(d.version, 20)}`);
  if (d.uptimeS !== undefined) parts.push(`up ${uptime(d.uptimeS + since)}`);
  return { text: parts.join(' · '), style: 'ok' };
}

export const Header = memo(function Header({ mode, daemon, since, readonly, crumbs, width }: HeaderProps) {
  const s = sourceText(mode, daemon, since);
  return (
    <Box flexDirection="column" width={width} height={2}>
      <Box height={1}>
        <Text wrap="truncate-end">
          <Styled style="bold">Logos</Styled>
          <Text> · </Text>
          <Styled style={s.style}>{s.text}</Styled>
          {readonly ? (
            <>
              <Text> · </Text>
              <Styled style="warn">read-only</Styled>
            </>
          ) : null}
        </Text>
      </Box>
      <Box height={1}>
        <Text wrap="truncate-start">
          {crumbs.map((c, i) => (
            <Text key={i}>
              {i > 0 ? <Styled style="dim">{' › '}</Styled> : null}
              <Styled style={i === crumbs.length - 1 ? 'focusTitle' : undefined}>{c}</Styled>
            </Text>
          ))}
        </Text>
      </Box>
    </Box>
  );
});
