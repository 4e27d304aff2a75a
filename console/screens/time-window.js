// Weekly time windows on assignments (issue 18), as the Users and Service accounts screens show and
// edit them: "Mon–Fri 09:00–17:00" in words, and an editor of ranges (days ticked, a start and an
// end time) in the tenant's time zone, which the API reads them in. Not a screen: no `nav`.
import { Checkbox, Field, html, timeZone } from '../ui.js';

export const DAYS = [['mon', 'Mon', 'Monday'], ['tue', 'Tue', 'Tuesday'], ['wed', 'Wed', 'Wednesday'], ['thu', 'Thu', 'Thursday'], ['fri', 'Fri', 'Friday'], ['sat', 'Sat', 'Saturday'], ['sun', 'Sun', 'Sunday']];
const ORDER = DAYS.map(([key]) => key);
const SHORT = Object.fromEntries(DAYS.map(([key, short]) => [key, short]));

/** ["mon","tue","wed","fri"] → "Mon–Wed, Fri": runs of three or more days joined by a dash. */
export function daysInWords(days) {
  const sorted = ORDER.filter((d) => days.includes(d));
  if (sorted.length === 7) return 'Every day';
  const runs = [];
  for (const day of sorted) {
    const last = runs[runs.length - 1];
    if (last && ORDER.indexOf(day) === ORDER.indexOf(last[last.length - 1]) + 1) last.push(day);
    else runs.push([day]);
  }
  return runs.map((run) => (run.length >= 3 ? `${SHORT[run[0]]}–${SHORT[run[run.length - 1]]}` : run.map((d) => SHORT[d]).join(', '))).join(', ');
}

/** A window in words: "Mon–Fri 09:00–17:00; Sat 09:00–12:00"; an end before the start runs past midnight. */
export function windowInWords(window) {
  if (!window?.length) return '';
  return window.map((r) => `${daysInWords(r.days)} ${r.start}–${r.end}${r.end < r.start ? ' (next day)' : ''}`).join('; ');
}

export const newRange = () => ({ days: ['mon', 'tue', 'wed', 'thu', 'fri'], start: '09:00', end: '17:00' });

/**
 * The ranges of a window, each with its days, start and end, and the API's objections beside them
 * (`errors` by "timeWindow.{i}.{field}"). `idPrefix` keeps ids unique when two editors are on a page.
 */
export function WindowEditor({ ranges, onRanges, errors = {}, idPrefix = 'tw' }) {
  const change = (i, patch) => onRanges(ranges.map((r, j) => (j === i ? { ...r, ...patch } : r)));
  const toggle = (i, day, on) => change(i, { days: ORDER.filter((d) => (d === day ? on : ranges[i].days.includes(d))) });
  return html`<div class="window-editor">
    <p class="hint">Times are in this organisation's time zone, <strong>${timeZone()}</strong> (set under Sign-in & security). An end earlier than the start runs past midnight.</p>
    ${ranges.map((r, i) => html`<fieldset class="window-range">
      <legend>Range ${i + 1}${r.days.length ? `: ${windowInWords([r])}` : ''}</legend>
      <div class="window-days">
        ${DAYS.map(([key, short, long]) => html`<${Checkbox} id=${`${idPrefix}-${i}-${key}`} label=${short} title=${long} checked=${r.days.includes(key)} onValue=${(on) => toggle(i, key, on)} />`)}
      </div>
      ${(errors[`timeWindow.${i}.days`] || errors[`timeWindow.${i}`]) && html`<p class="field-error">${errors[`timeWindow.${i}.days`] ?? errors[`timeWindow.${i}`]}</p>`}
      <div class="window-times">
        <${Field} id=${`${idPrefix}-${i}-start`} label=${`Range ${i + 1}: from`} type="time" value=${r.start} onValue=${(v) => change(i, { start: v })} error=${errors[`timeWindow.${i}.start`]} />
        <${Field} id=${`${idPrefix}-${i}-end`} label=${`Range ${i + 1}: until`} type="time" value=${r.end} onValue=${(v) => change(i, { end: v })} error=${errors[`timeWindow.${i}.end`]} />
      </div>
      ${ranges.length > 1 && html`<button type="button" class="secondary small" onClick=${() => onRanges(ranges.filter((_, j) => j !== i))}>Remove range ${i + 1}</button>`}
    </fieldset>`)}
    ${errors.timeWindow && html`<p class="field-error">${errors.timeWindow}</p>`}
    <button type="button" class="secondary" onClick=${() => onRanges([...ranges, newRange()])}>Add another range</button>
  </div>`;
}
