/**
 * Loading placeholders in the shape of what is coming, so the page does not jump when it arrives.
 * Each one is a busy region with a spoken "Loading …" for screen readers; the grey blocks
 * themselves are hidden from assistive technology.
 */
import type { CSSProperties, ReactNode } from 'react';

export function SkeletonBlock({
  width = '100%',
  height = 16,
  style,
}: {
  width?: number | string;
  height?: number | string;
  style?: CSSProperties;
}) {
  return (
    <span
      className="skeleton"
      aria-hidden="true"
      style={{ display: 'block', width, height, ...style }}
    />
  );
}

/** A busy region: the label is read out, the placeholder children are not. */
export function Loading({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div>
      <p className="sr-only" role="status">
        {label}
      </p>
      <div aria-hidden="true">{children}</div>
    </div>
  );
}

/** The top bar while the session is being restored: brand only. */
export function TopBarSkeleton() {
  return (
    <header className="topbar">
      <span className="brand">CollabFlow</span>
      <span className="spacer" />
      <SkeletonBlock width={28} height={28} style={{ borderRadius: '50%' }} />
      <SkeletonBlock width={72} height={28} />
    </header>
  );
}

const grid: CSSProperties = {
  display: 'grid',
  gridTemplateColumns: 'repeat(auto-fill, minmax(min(260px, 100%), 1fr))',
  gap: 'var(--space-3)',
};

function CardSkeleton() {
  return (
    <div
      className="card-surface stack"
      style={{ padding: 'var(--space-4)', gap: 'var(--space-2)' }}
    >
      <SkeletonBlock width="60%" height={18} />
      <SkeletonBlock width="90%" height={12} />
      <SkeletonBlock width="30%" height={12} />
    </div>
  );
}

/** A list of project cards, grouped like the projects page. */
export function ProjectListSkeleton({ groups = 2 }: { groups?: number }) {
  return (
    <Loading label="Loading your projects…">
      <div className="stack" style={{ gap: 'var(--space-5)' }}>
        {Array.from({ length: groups }, (_, g) => (
          <div key={g} className="stack">
            <SkeletonBlock width={180} height={20} />
            <div style={grid}>
              {Array.from({ length: g === 0 ? 3 : 2 }, (_, i) => (
                <CardSkeleton key={i} />
              ))}
            </div>
          </div>
        ))}
      </div>
    </Loading>
  );
}

/** The whole projects page while the session is restored. */
export function ProjectsPageSkeleton() {
  return (
    <>
      <TopBarSkeleton />
      <main className="page stack" style={{ gap: 'var(--space-5)' }}>
        <SkeletonBlock width={200} height={28} />
        <ProjectListSkeleton />
      </main>
    </>
  );
}

/** The settings page's content: a details form and a member list. */
export function SettingsSkeleton({ title }: { title?: ReactNode }) {
  return (
    <>
      {title ?? <SkeletonBlock width={240} height={28} />}
      <Loading label="Loading project settings…">
        <div className="stack" style={{ gap: 'var(--space-5)' }}>
          <div className="card-surface stack" style={{ padding: 'var(--space-5)' }}>
            <SkeletonBlock width={120} height={20} />
            <SkeletonBlock height={36} />
            <SkeletonBlock height={80} />
          </div>
          <div className="card-surface stack" style={{ padding: 'var(--space-5)' }}>
            <SkeletonBlock width={120} height={20} />
            {Array.from({ length: 3 }, (_, i) => (
              <div key={i} className="row">
                <SkeletonBlock
                  width={28}
                  height={28}
                  style={{ borderRadius: '50%', flex: 'none' }}
                />
                <SkeletonBlock width="40%" height={14} />
                <span className="spacer" />
                <SkeletonBlock width={96} height={28} />
              </div>
            ))}
          </div>
        </div>
      </Loading>
    </>
  );
}

/** The whole settings page while the session is restored. */
export function SettingsPageSkeleton() {
  return (
    <>
      <TopBarSkeleton />
      <main className="page stack" style={{ gap: 'var(--space-5)', maxWidth: 800 }}>
        <SettingsSkeleton />
      </main>
    </>
  );
}

/** Four columns of cards, for the board page while it loads. */
export function BoardSkeleton({ columns = 4 }: { columns?: number }) {
  return (
    <Loading label="Loading the board…">
      <div
        style={{
          display: 'grid',
          gridAutoFlow: 'column',
          gridAutoColumns: 'minmax(240px, 1fr)',
          gap: 'var(--space-3)',
          overflowX: 'auto',
        }}
      >
        {Array.from({ length: columns }, (_, c) => (
          <div key={c} className="stack" style={{ padding: 'var(--space-3)' }}>
            <SkeletonBlock width="50%" height={18} />
            {Array.from({ length: 3 - (c % 2) }, (_, i) => (
              <CardSkeleton key={i} />
            ))}
          </div>
        ))}
      </div>
    </Loading>
  );
}

/** The auth card (login, register) while the search parameters are read. */
export function AuthCardSkeleton() {
  return (
    <main className="auth-page">
      <Loading label="Loading…">
        <div className="auth-card card-surface stack">
          <SkeletonBlock width="50%" height={28} />
          <SkeletonBlock height={36} />
          <SkeletonBlock height={36} />
          <SkeletonBlock height={36} />
        </div>
      </Loading>
    </main>
  );
}
