// A network rule's editor (issue 18), shared by the Sign-in & security screen (the tenant-wide rule)
// and a role's page (that role's rule): address ranges one per line (CIDR, IPv4 or IPv6; a bare
// address is one host), a description, the API's objections beside the ranges, and removal after a
// confirmation. For the tenant-wide rule, the API refuses (409) ranges that leave out the caller's
// own address; the form then says what that means and asks for the explicit "allow it anyway".
import { Checkbox, Confirm, Field, formatTime, html, notify, useState } from '../ui.js';
import { TextArea, errorOf, splitList } from './upstream.js';

/** The API's message as a sentence: a capital, a full stop. */
const sentence = (text) => `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;

/** Ranges as code, comma-separated. */
export const Ranges = ({ ranges }) => ranges.map((r, i) => html`${i ? ', ' : ''}<code class="range">${r}</code>`);

/** "10.20.0.0/16" and "2001:db8::/48" as they are; the people who set it and when. */
export function RuleSummary({ rule, none }) {
  if (!rule) return html`<p>${none}</p>`;
  return html`<div class="rule-summary">
    <p>Allowed from: <${Ranges} ranges=${rule.ranges} /></p>
    ${rule.description && html`<p>${rule.description}</p>`}
    <p class="hint">Set ${formatTime(rule.updatedAt, { withZone: true })}.</p>
  </div>`;
}

/**
 * `save({ ranges, description, allowOutsideCaller })` and `remove()` call the API (and reload);
 * `what` names the rule in messages. The confirmation is outside the form: a dialog's own form
 * inside it would submit both.
 */
export function NetworkRuleForm({ rule, what, idPrefix, save, remove, removeMessage }) {
  const [text, setText] = useState(() => (rule?.ranges ?? []).join('\n'));
  const [description, setDescription] = useState(rule?.description ?? '');
  const [fields, setFields] = useState({});
  const [outside, setOutside] = useState(undefined);
  const [acknowledged, setAcknowledged] = useState(false);
  const [busy, setBusy] = useState(false);
  const [removing, setRemoving] = useState(false);

  const send = async (allowOutsideCaller) => {
    const ranges = splitList(text, /[\s,]+/);
    if (!ranges.length) {
      setFields({ ranges: 'Enter at least one address range, or remove the rule.' });
      return;
    }
    setBusy(true);
    setFields({});
    try {
      await save({ ranges, description: description.trim() || undefined, ...(allowOutsideCaller ? { allowOutsideCaller: true } : {}) });
      setOutside(undefined);
      setAcknowledged(false);
      notify('success', `The ${what} was saved.`);
    } catch (error) {
      if (error.status === 409 && error.details?.reason === 'caller_outside') {
        setOutside(error);
      } else {
        setOutside(undefined);
        // Shown beside the field it is about; a banner as well would outlive the fix.
        setFields(Object.keys(error.fields ?? {}).length ? error.fields : { ranges: error.message });
      }
    } finally {
      setBusy(false);
    }
  };
  const submit = (event) => {
    event.preventDefault();
    send(false);
  };
  const ranges = errorOf(fields, 'ranges');
  const other = !ranges && (fields.description ?? fields.input);
  return html`<div class="network-rule"><form class="network-rule-form" onSubmit=${submit} novalidate>
    <${TextArea} label="Allowed address ranges" mono rows="4" value=${text} onValue=${(v) => { setText(v); setOutside(undefined); }} error=${ranges}
      hint="One per line: CIDR ranges such as 10.20.0.0/16 (IPv4) or 2001:db8:5::/48 (IPv6); a single address is one computer." />
    <${Field} id=${`${idPrefix}-description`} label="What these ranges are" hint="For the next administrator, e.g. Main Street clinic network" value=${description} onValue=${setDescription} error=${fields.description} autocomplete="off" />
    ${other && html`<p class="field-error" role="alert">${other}</p>`}
    ${outside && html`<div class="notice warning caller-outside" role="alert">
      <p><strong>You are outside these ranges.</strong> ${sentence(outside.message.replace(/; add it, or send allowOutsideCaller: true$/, ''))}</p>
      <p>Once saved, nobody can sign in or refresh their session from where you are now — you included. Add your own network's range, or, if you are setting this up from elsewhere on purpose, confirm it.</p>
      <${Checkbox} id=${`${idPrefix}-allow-outside`} label="Allow even though I am outside these ranges" checked=${acknowledged} onValue=${setAcknowledged} />
      <div class="form-actions"><button type="button" class="danger" disabled=${!acknowledged || busy} onClick=${() => send(true)}>Save the rule anyway</button></div>
    </div>`}
    <div class="form-actions">
      <button type="submit" disabled=${busy}>${busy ? 'Saving…' : rule ? 'Save ranges' : 'Set the rule'}</button>
      ${rule && html`<button type="button" class="secondary" onClick=${() => setRemoving(true)}>Remove the rule</button>`}
    </div>
  </form>
    ${removing && html`<${Confirm} title=${`Remove the ${what}?`} message=${removeMessage} confirmText="Remove the rule"
      onConfirm=${async () => {
        try {
          await remove();
          setText('');
          setDescription('');
          notify('success', `The ${what} was removed.`);
          return true;
        } catch (error) {
          notify('error', error.message);
          return false;
        }
      }} onClose=${() => setRemoving(false)} />`}
  </div>`;
}
