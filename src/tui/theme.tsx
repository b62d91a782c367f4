import { Text } from 'ink';
import { createContext, memo, useContext, type ReactNode } from 'react';
import type { Style } from './run-lines.js';

/**
 * Colour, or none. With NO_COLOR (or colour off) no style reaches ink, so the
 * output carries no escape sequence for colour, dimming, bold or inverse; the
 * selection is marked with `›` either way.
 */

export interface Theme {
  color: boolean;
}

export const ThemeContext = createContext<Theme>({ color: true });

export function useTheme(): Theme {
  return useContext(ThemeContext);
}

export type StyleName = Style | 'selected' | 'title' | 'focusTitle';

type TextStyle = { color?: string; dimColor?: boolean; bold?: boolean; inverse?: boolean };

const STYLES: Record<StyleName, TextStyle> = {
  dim: { dimColor: true },
  bold: { bold: true },
  ok: { color: 'green' },
  err: { color: 'red' },
  warn: { color: 'yellow' },
  thinking: { dimColor: true },
  accent: { color: 'cyan' },
  selected: { inverse: true },
  title: { dimColor: true },
  focusTitle: { bold: true, color: 'cyan' },
};

export function styleProps(color: boolean, style: StyleName | undefined): TextStyle {
  return color && style ? STYLES[style] : {};
}

/** Text in a style (plain without colour). */
export const Styled = memo(function Styled({ style, children, wrap }: { style?: StyleName | undefined; children: ReactNode; wrap?: 'truncate-end' | 'wrap' }) {
  const { color } = useTheme();
  return (
    <Text {...styleProps(color, style)} {...(wrap ? { wrap } : {})}>
      {children}
    </Text>
  );
});
