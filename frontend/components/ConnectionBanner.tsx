'use client';
import { useConnectionState } from '@/hooks/useSocket';

/** Says plainly when live updates are not flowing, and that the board is read-only meanwhile. */
export function ConnectionBanner() {
  const state = useConnectionState();
  let text: string | null = null;
  let tone = 'alert-warning';
  switch (state.kind) {
    case 'connecting':
      text = 'Connecting to live updates…';
      tone = 'alert-info';
      break;
    case 'reconnecting':
      text = 'Connection lost. Reconnecting… The board is read-only until live updates are back.';
      break;
    case 'offline':
      text =
        'You are offline. The board is read-only; it will catch up as soon as you are back online.';
      break;
    default:
      text = null;
  }
  if (!text) return <div role="status" aria-live="polite" className="sr-only" />;
  return (
    <div
      role="status"
      aria-live="polite"
      className={`alert ${tone}`}
      style={{ borderRadius: 0, textAlign: 'center' }}
      data-testid="connection-banner"
      data-state={state.kind}
    >
      {text}
    </div>
  );
}
