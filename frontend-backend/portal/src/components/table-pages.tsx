import { useState, type ReactNode } from 'react';

/** One page of a list held in memory, for tables (whose rows cannot hold a pager, unlike `Paged`'s lists). */
export function useTablePage<T>(items: T[], size: number) {
  const [page, setPage] = useState(0);
  const pages = Math.max(1, Math.ceil(items.length / size));
  const current = Math.min(page, pages - 1);
  return { rows: items.slice(current * size, current * size + size), current, pages, setPage };
}

/** Previous and next for `useTablePage`; nothing when everything fits on one page. */
export function TablePager({ current, pages, setPage, label }: { current: number; pages: number; setPage(page: number): void; label: string }) {
  if (pages <= 1) return null;
  return (
    <nav className="pager" aria-label={`${label} pages`}>
      <button type="button" disabled={current === 0} onClick={() => setPage(current - 1)}>
        Previous
      </button>
      <span>
        page {current + 1} of {pages}
      </span>
      <button type="button" disabled={current === pages - 1} onClick={() => setPage(current + 1)}>
        Next
      </button>
    </nav>
  );
}

/** A table that scrolls sideways on a narrow screen, focusable so that a keyboard can scroll it too. */
export function ScrollingTable({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="table-scroll" tabIndex={0} role="region" aria-label={label}>
      {children}
    </div>
  );
}
