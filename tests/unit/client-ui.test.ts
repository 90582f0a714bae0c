// @vitest-environment happy-dom
/** The ui store in a page: the open lab follows the address (#/labs/NAME), notices come and go. */
import { createPinia, setActivePinia } from 'pinia';
import { beforeEach, describe, expect, test, vi } from 'vitest';
import { ApiError } from '../../client/src/api/http.js';
import { useUiStore } from '../../client/src/stores/ui.js';

beforeEach(() => {
  setActivePinia(createPinia());
  history.replaceState(null, '', '#/');
});

describe('ui store', () => {
  test('opening a lab puts it in the address; back and forward read it', () => {
    const ui = useUiStore();
    expect(ui.route).toBeNull();
    ui.select([{ kind: 'node', id: 'pc1' }]);
    ui.openLab('my-lab');
    expect(location.hash).toBe('#/labs/my-lab');
    expect(ui.selection).toEqual([]);
    ui.fromHash('#/');
    expect(ui.route).toBeNull();
    ui.fromHash('#/labs/other');
    expect(ui.route).toBe('other');
  });

  test('a page opened on a lab starts there', () => {
    history.replaceState(null, '', '#/labs/direct');
    expect(useUiStore().route).toBe('direct');
  });

  test('errors become notices with the server field messages; they go away', () => {
    vi.useFakeTimers();
    const ui = useUiStore();
    ui.fail(new ApiError(400, 'node pc1 is not valid', [{ field: 'interfaces.eth0.ip', message: '"10.0.0.300/24" is not an address' }]), 'applying');
    expect(ui.notices).toMatchObject([{ level: 'error', text: 'applying: node pc1 is not valid', details: ['interfaces.eth0.ip: "10.0.0.300/24" is not an address'] }]);
    ui.notify('info', 'saved');
    expect(ui.notices).toHaveLength(2);
    vi.advanceTimersByTime(4000);
    expect(ui.notices.map((n) => n.text)).toEqual(['applying: node pc1 is not valid']);
    vi.advanceTimersByTime(6000);
    expect(ui.notices).toEqual([]);
    vi.useRealTimers();
  });

  test('selection helpers', () => {
    const ui = useUiStore();
    ui.select([{ kind: 'link', id: 'a:eth0--b:e0' }]);
    expect(ui.selected).toEqual({ kind: 'link', id: 'a:eth0--b:e0' });
    expect(ui.isSelected('link', 'a:eth0--b:e0')).toBe(true);
    ui.select([{ kind: 'node', id: 'a' }, { kind: 'node', id: 'b' }]);
    expect(ui.selected).toBeNull();
  });
});
