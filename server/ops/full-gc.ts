// A full garbage collection on request, for long streaming jobs (a mirror sync of 60,000 packages)
// whose live data is one batch but whose garbage V8 would otherwise let pile up to the next major
// collection, raising the server's peak RSS by 100 MB and more. V8 exposes gc() to a new context once
// the flag is set; the flag changes nothing else.
import v8 from 'node:v8';
import vm from 'node:vm';

let gc: (() => void) | null | undefined;

export function collectGarbage(): void {
  if (gc === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as () => void;
    } catch {
      gc = null;
    }
  }
  gc?.();
}

/**
 * A budget of work (packages parsed, reports recorded) after which a full collection is asked for: the
 * garbage of each unit is dropped before it piles up, at the cost of one collection per budget.
 */
export function collectionBudget(budget: number): (units?: number) => void {
  let spent = 0;
  return (units = 1) => {
    spent += units;
    if (spent < budget) return;
    spent = 0;
    collectGarbage();
  };
}
