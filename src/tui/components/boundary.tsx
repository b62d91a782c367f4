import { useApp } from 'ink';
import { Component, type ReactNode } from 'react';

/**
 * A crash while drawing ends the app instead of leaving a broken screen: the error
 * goes to ink's exit (the app unmounts and the terminal is restored), and whoever
 * started the dashboard prints it afterwards, on the normal screen.
 */

class Boundary extends Component<{ onCrash: (error: Error) => void; children: ReactNode }, { failed: boolean }> {
  override state = { failed: false };

  static getDerivedStateFromError(): { failed: boolean } {
    return { failed: true };
  }

  override componentDidCatch(error: unknown): void {
    this.props.onCrash(error instanceof Error ? error : new Error(String(error)));
  }

  override render(): ReactNode {
    return this.state.failed ? null : this.props.children;
  }
}

export function CrashBoundary({ children }: { children: ReactNode }) {
  const { exit } = useApp();
  return <Boundary onCrash={(e) => exit(e)}>{children}</Boundary>;
}
