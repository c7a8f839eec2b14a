import Link from 'next/link';

/** Any address the app does not know: say so, and offer the way home. */
export default function NotFound() {
  return (
    <main className="auth-page">
      <div className="auth-card card-surface stack" style={{ textAlign: 'center' }}>
        <p className="muted small" style={{ margin: 0 }}>
          Error 404
        </p>
        <h1>Page not found</h1>
        <p style={{ margin: 0 }}>
          There is nothing at this address. The link may be mistyped, or the page may have moved.
        </p>
        <div>
          <Link href="/" className="btn btn-primary">
            Go to your projects
          </Link>
        </div>
      </div>
    </main>
  );
}
