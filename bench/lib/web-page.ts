/**
 * What `npm run bench:web` installs in the page before any of the app's scripts run
 * (context.addInitScript): a React DevTools-style global hook that counts card renders per
 * commit, a long-task observer, a load watcher and per-phase frame and drop timers. It is plain
 * JavaScript in a string, not a TypeScript function: tsx would add helpers (`__name`) to a
 * function's source that do not exist in the page.
 *
 * Render counting. react-dom (the production build too) calls `hook.inject(internals)` once when
 * it loads, if the hook says `supportsFiber` and is not `isDisabled`, and from then on calls
 * `hook.onCommitFiberRoot(rendererId, fiberRoot)` after every commit. The hook walks the committed
 * tree (`fiberRoot.current`, child/sibling links) the way React DevTools does:
 *   - a fiber with no alternate was mounted in this commit;
 *   - a function or memo component fiber rendered in this commit when it carries React's
 *     PerformedWork flag (bit 1 of `fiber.flags`); a memo component that bailed out keeps its
 *     old props and does not get that flag;
 *   - a subtree whose `child` pointer is the same as its alternate's was not visited in this
 *     commit at all, so it is skipped (its fibers still carry flags from an older commit).
 * Cards are recognised by the `displayName` the app gives its memo components, CardBody and
 * SortableCard (frontend/board/Card.tsx). For comparison it also counts the fibers, among those
 * visited, whose props object changed (`memoizedProps !== alternate.memoizedProps`): for CardBody
 * that is the same number; SortableCard mostly re-renders from its own subscriptions (dnd-kit's
 * context, the board store) with unchanged props, which only the flag sees.
 */

/** Render counters since the last `begin()` (or since the page loaded). */
export interface RenderCounts {
  commits: number;
  CardBody: number;
  SortableCard: number;
  CardBodyMounts: number;
  SortableCardMounts: number;
  CardBodyPropsChanged: number;
  SortableCardPropsChanged: number;
  /** How many different cards (task ids) the CardBody / SortableCard renders were of. */
  CardBodyCards: number;
  SortableCardCards: number;
  /** Time spent in the hook's tree walks (it runs inside React's commit). */
  walkMs: number;
}

export interface HookState {
  /** How many renderers called hook.inject (react-dom: 1). */
  injected: number;
  rendererVersions: string[];
  errors: number;
  lastError: string | null;
}

export interface LoadState {
  /** performance.now() (ms since navigation start) of the first frame showing a laid-out card. */
  firstCardMs: number | null;
  /** ... of the first frame with all the expected cards in the DOM. */
  allCardsMs: number | null;
  maxCardsSeen: number;
}

export interface PageSnapshot {
  load: LoadState;
  counts: RenderCounts;
  hook: HookState;
  resources: {
    jsFiles: number;
    /** Bytes over the wire (headers included, 0 when served from cache). */
    jsTransferBytes: number;
    /** Response bodies as sent (compressed). */
    jsEncodedBytes: number;
    /** Response bodies decompressed. */
    jsDecodedBytes: number;
    allTransferBytes: number;
    /** Navigation timing of the document: response end and DOMContentLoaded, ms. */
    responseEndMs: number | null;
    domContentLoadedMs: number | null;
  };
  domElements: number;
  cardsInDom: number;
  usedJSHeapBytes: number | null;
}

export interface DropState {
  id: string;
  status: string;
  kind: 'key' | 'mouse' | 'now';
  armedAt: number;
  /** performance.now() when the drop (Space keydown / mouseup) reached the page, or the arm time. */
  dropAt: number | null;
  /** Whether the card was already in the target column when it was dropped (drag preview). */
  inTargetAtDrop: boolean | null;
  /** First animation frame after the drop with the card in the target column. */
  visibleAt: number | null;
  /** First animation frame with the card in the target column and no move in flight. */
  settledAt: number | null;
}

export interface PhaseResult {
  label: string;
  durationMs: number;
  counts: RenderCounts;
  /** requestAnimationFrame deltas (ms) during the phase. */
  frames: number[];
  longTasks: { start: number; duration: number }[];
  drop: DropState | null;
}

const SOURCE = String.raw`function (expected) {
  if (window.__bench) return;
  var counts;
  var cardIds;
  function zero() {
    cardIds = { CardBody: new Set(), SortableCard: new Set() };
    counts = {
      commits: 0,
      CardBody: 0,
      SortableCard: 0,
      CardBodyMounts: 0,
      SortableCardMounts: 0,
      CardBodyPropsChanged: 0,
      SortableCardPropsChanged: 0,
      CardBodyCards: 0,
      SortableCardCards: 0,
      walkMs: 0
    };
  }
  zero();
  var hookState = { injected: 0, rendererVersions: [], errors: 0, lastError: null };

  function nameOf(f) {
    var t = f.elementType;
    var n = t && (typeof t === 'object' || typeof t === 'function') ? t.displayName : undefined;
    if (!n) {
      var ty = f.type;
      n = ty && (typeof ty === 'object' || typeof ty === 'function') ? ty.displayName : undefined;
    }
    return n;
  }

  function rendered(n, f) {
    counts[n]++;
    var p = f.memoizedProps;
    var id = p ? (n === 'CardBody' ? p.task && p.task.id : p.id) : undefined;
    cardIds[n].add(id === undefined ? '?' : id);
    counts[n + 'Cards'] = cardIds[n].size;
  }

  function walk(rootFiber) {
    var t0 = performance.now();
    var stack = [rootFiber];
    while (stack.length > 0) {
      var f = stack.pop();
      var prev = f.alternate;
      var n = nameOf(f);
      if (n === 'CardBody' || n === 'SortableCard') {
        if (prev === null) {
          rendered(n, f);
          counts[n + 'Mounts']++;
          counts[n + 'PropsChanged']++;
        } else {
          var flags = typeof f.flags === 'number' ? f.flags : f.effectTag;
          if ((flags & 1) === 1) rendered(n, f);
          if (f.memoizedProps !== prev.memoizedProps) counts[n + 'PropsChanged']++;
        }
      }
      if (prev === null || f.child !== prev.child) {
        for (var c = f.child; c; c = c.sibling) stack.push(c);
      }
    }
    counts.walkMs += performance.now() - t0;
  }

  var renderers = new Map();
  var nextRendererId = 1;
  window.__REACT_DEVTOOLS_GLOBAL_HOOK__ = {
    supportsFiber: true,
    isDisabled: false,
    renderers: renderers,
    inject: function (internals) {
      var id = nextRendererId++;
      renderers.set(id, internals);
      hookState.injected++;
      hookState.rendererVersions.push(String((internals && internals.version) || '?'));
      return id;
    },
    onCommitFiberRoot: function (_id, root) {
      counts.commits++;
      try {
        walk(root.current);
      } catch (e) {
        hookState.errors++;
        hookState.lastError = String(e && e.stack ? e.stack : e);
      }
    },
    onCommitFiberUnmount: function () {},
    onPostCommitFiberRoot: function () {},
    onScheduleFiberRoot: function () {},
    setStrictMode: function () {},
    checkDCE: function () {}
  };

  var longTasks = [];
  try {
    new PerformanceObserver(function (list) {
      list.getEntries().forEach(function (e) {
        longTasks.push({ start: e.startTime, duration: e.duration });
      });
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) {
    /* no long-task support: the list stays empty */
  }

  var load = { firstCardMs: null, allCardsMs: null, maxCardsSeen: 0 };
  function loadTick() {
    var cards = document.querySelectorAll('li[data-task-id]');
    var now = performance.now();
    if (cards.length > load.maxCardsSeen) load.maxCardsSeen = cards.length;
    if (load.firstCardMs === null && cards.length > 0) {
      var r = cards[0].getBoundingClientRect();
      if (r.height > 0 && r.width > 0) load.firstCardMs = now;
    }
    if (load.allCardsMs === null && cards.length >= expected) load.allCardsMs = now;
    if (load.allCardsMs === null && now < 180000) requestAnimationFrame(loadTick);
  }
  requestAnimationFrame(loadTick);

  var phase = null;
  function begin(label) {
    zero();
    var p = { label: label, start: performance.now(), frames: [], last: null, running: true, drop: null };
    phase = p;
    function tick(ts) {
      if (!p.running) return;
      if (p.last !== null) p.frames.push(ts - p.last);
      p.last = ts;
      requestAnimationFrame(tick);
    }
    requestAnimationFrame(tick);
  }

  function cardIn(id, status) {
    return document.querySelector(
      'section[data-status="' + status + '"] li[data-task-id="' + id + '"]'
    );
  }

  function arm(id, status, kind) {
    var d = {
      id: id,
      status: status,
      kind: kind,
      armedAt: performance.now(),
      dropAt: null,
      inTargetAtDrop: null,
      visibleAt: null,
      settledAt: null
    };
    if (phase) phase.drop = d;
    function dropped() {
      d.dropAt = performance.now();
      d.inTargetAtDrop = cardIn(id, status) !== null;
    }
    if (kind === 'now') dropped();
    function onEvent(e) {
      if (d.dropAt !== null) return;
      if (kind === 'key' && e.type === 'keydown' && (e.code === 'Space' || e.key === ' ')) dropped();
      if (kind === 'mouse' && e.type === 'mouseup') dropped();
    }
    window.addEventListener('keydown', onEvent, true);
    window.addEventListener('mouseup', onEvent, true);
    function check() {
      if (d.dropAt !== null) {
        var el = cardIn(id, status);
        var now = performance.now();
        if (el && d.visibleAt === null) d.visibleAt = now;
        if (el && d.settledAt === null && !el.hasAttribute('data-pending')) d.settledAt = now;
      }
      if (d.settledAt === null && performance.now() - d.armedAt < 30000) {
        requestAnimationFrame(check);
      } else {
        window.removeEventListener('keydown', onEvent, true);
        window.removeEventListener('mouseup', onEvent, true);
      }
    }
    requestAnimationFrame(check);
  }

  function end() {
    var p = phase;
    if (!p) return null;
    p.running = false;
    phase = null;
    var endAt = performance.now();
    return {
      label: p.label,
      durationMs: endAt - p.start,
      counts: Object.assign({}, counts),
      frames: p.frames.slice(),
      longTasks: longTasks.filter(function (t) {
        return t.start + t.duration >= p.start && t.start <= endAt;
      }),
      drop: p.drop ? Object.assign({}, p.drop) : null
    };
  }

  function snapshot() {
    var res = {
      jsFiles: 0,
      jsTransferBytes: 0,
      jsEncodedBytes: 0,
      jsDecodedBytes: 0,
      allTransferBytes: 0,
      responseEndMs: null,
      domContentLoadedMs: null
    };
    performance.getEntriesByType('resource').forEach(function (e) {
      res.allTransferBytes += e.transferSize || 0;
      var path = e.name.split('?')[0];
      if (/\.m?js$/.test(path)) {
        res.jsFiles++;
        res.jsTransferBytes += e.transferSize || 0;
        res.jsEncodedBytes += e.encodedBodySize || 0;
        res.jsDecodedBytes += e.decodedBodySize || 0;
      }
    });
    var nav = performance.getEntriesByType('navigation')[0];
    if (nav) {
      res.allTransferBytes += nav.transferSize || 0;
      res.responseEndMs = nav.responseEnd;
      res.domContentLoadedMs = nav.domContentLoadedEventEnd || null;
    }
    var mem = performance.memory;
    return {
      load: Object.assign({}, load),
      counts: Object.assign({}, counts),
      hook: JSON.parse(JSON.stringify(hookState)),
      resources: res,
      domElements: document.getElementsByTagName('*').length,
      cardsInDom: document.querySelectorAll('li[data-task-id]').length,
      usedJSHeapBytes: mem ? mem.usedJSHeapSize : null
    };
  }

  window.__bench = {
    begin: begin,
    arm: arm,
    end: end,
    snapshot: snapshot,
    reset: zero,
    dropDone: function () {
      return !!(phase && phase.drop && phase.drop.settledAt !== null);
    },
    cardIn: function (id, status) {
      return cardIn(id, status) !== null;
    }
  };
}`;

/** The init script for a board that should end up with `expectedCards` cards. */
export function benchInitScript(expectedCards: number): string {
  return `(${SOURCE})(${JSON.stringify(expectedCards)});`;
}
