// The enforcement officer's phone page (/m/officer): dispatches to my team arrive live with a
// sound and vibration cue; accept, or return with a reason; verify, start, record each
// enforcement stage with its officers and evidence, and submit the result; deadlines in view
// (the assignee's moves are shared with the grid worker's page: shared/case-actions.ts); the
// "share my position" switch (shared/position-sharing.ts).

import '../../shared/base.css';
import '../phone.css';
import './officer.css';
import { api, type CaseView, type CommandBody, type Decision, type EnforcementStage, type Person } from '../../shared/api';
import { caseCard } from '../../shared/case-card';
import {
  AssigneeActions,
  IN_HAND,
  evidencePicker,
  runCommand,
  submitForm,
  ta,
} from '../../shared/case-actions';
import { CaseStore } from '../../shared/cases';
import { loadCategories } from '../../shared/categories';
import { cue, cues } from '../../shared/cue';
import { button, el, field, select } from '../../shared/dom';
import { Header } from '../../shared/header';
import { InboxButton } from '../../shared/inbox';
import { myPerson } from '../../shared/me';
import { PositionSharing } from '../../shared/position-sharing';
import { OFFICER_ROLES, requireUser } from '../../shared/signin';
import { categoryLabel, onLangChange, stageLabel, t } from '../../shared/i18n';
import { LiveClient, liveUrl } from '../../shared/live';
import { exposeForTests } from '../../shared/test-hook';
import { keepShellOffline } from '../../shared/offline-shell';
import { to } from './texts';

const STAGES: EnforcementStage[] = ['file', 'investigate', 'decide', 'serve', 'archive'];
const MEASURES = [
  ['warning', 'warning'],
  ['fine', 'fineMeasure'],
  ['confiscation', 'confiscation'],
  ['order_to_correct', 'order_to_correct'],
  ['closure', 'closure'],
  ['demolition', 'demolition'],
  ['license_revocation', 'license_revocation'],
] as const;

const root = document.getElementById('app') as HTMLElement;
const headerEl = el('header');
const main = el('main', 'phone-main');
root.append(headerEl, main);
const header = new Header(headerEl, () => to('title'));

keepShellOffline(); // the page opens offline after this visit
const user = await requireUser({ roles: OFFICER_ROLES, header });
// An officer or agency account always belongs to a registry person.
const person = (await Promise.all([myPerson(user), loadCategories()]))[0]!;
const team = user.team_id ?? person.team_id;
header.setPerson(() => `${person.name}${person.team_name ? ` · ${person.team_name}` : ''}`);
const inbox = new InboxButton({ onOpen: (n) => showCase(n.case_id) });
header.addTool(inbox.root);

const store = new CaseStore();
/** Cases that arrived as a new dispatch while this page was open (highlighted until opened). */
const fresh = new Set<string>();
let teamMates: Person[] = [person];

const banner = el('div', 'banner');
banner.hidden = true;
const sections = {
  waiting: el('section', 'group group-waiting'),
  working: el('section', 'group group-working'),
  finished: el('details', 'group group-finished'),
};
const sharing = new PositionSharing(person.id);
main.replaceChildren(banner, sharing.root, sections.waiting, sections.working, sections.finished);

const mine = (c: CaseView): boolean => team !== null && c.assignee?.id === team;
const actions = new AssigneeActions({
  mine,
  redraw: () => render(),
  inProgress: enforcementForms,
  touched: (id) => fresh.delete(id),
});

// ---- live feed: my team's dispatches ----

function isNewDispatch(c: CaseView): boolean {
  if (c.state !== 'dispatched' || !mine(c)) return false;
  const held = store.get(c.id);
  return !held || held.state !== 'dispatched' || held.assignee?.id !== team;
}

const live = new LiveClient(liveUrl(), {
  onMessage(message) {
    if (message.type === 'snapshot') {
      store.mergeSnapshot(message.cases.filter(mine));
      void inbox.reload(); // notices that came while the connection was down
    } else if (message.type === 'notice') {
      inbox.receive(message.notice);
    } else if (message.type === 'case_changed') {
      const c = message.case;
      if (!mine(c) && !store.get(c.id)) return;
      const arriving = isNewDispatch(c);
      if (store.apply(c) && arriving) {
        fresh.add(c.id);
        cue();
        showBanner(c);
      }
    } else if (message.type === 'case_removed') {
      fresh.delete(message.case_id);
      if (banner.dataset['caseId'] === message.case_id) banner.hidden = true;
      actions.forget(message.case_id);
      store.remove(message.case_id, message.version);
    }
  },
  onStatus: (s) => header.setStatus(s),
});

function showBanner(c: CaseView): void {
  banner.hidden = false;
  banner.dataset['caseId'] = c.id;
  banner.textContent = `${to('newDispatch')}: ${categoryLabel(c.category)} · ${c.grid_name ?? ''} · ${c.description}`;
  banner.onclick = () => showCase(c.id);
}

/** Opens a case's card (from the banner or a notice) and brings it into view, reading the case first if this
 * page has not seen it (a notice about a case that changed while the page was asleep). */
function showCase(id: string): void {
  actions.expanded = id;
  banner.hidden = true;
  render();
  const card = document.querySelector(`[data-case-id="${id}"]`);
  if (card) {
    card.scrollIntoView({ block: 'center' });
    return;
  }
  void api
    .caseDetail(id)
    .then((detail) => {
      store.apply(detail.case);
      render();
      document.querySelector(`[data-case-id="${id}"]`)?.scrollIntoView({ block: 'center' });
    })
    .catch(() => undefined);
}

// ---- rendering ----

let renderQueued = false;
function scheduleRender(): void {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    render();
  });
}
store.onChange(scheduleRender);
setInterval(scheduleRender, 30_000); // deadlines count down

function render(): void {
  const now = Date.now();
  const all = store.latest(500).filter((c) => mine(c) || store.get(c.id));
  const byDue = (a: CaseView, b: CaseView) =>
    Date.parse(a.step_due_at ?? a.opened_at) - Date.parse(b.step_due_at ?? b.opened_at);
  const waiting = all.filter((c) => c.state === 'dispatched' && mine(c)).sort(byDue);
  const working = all.filter((c) => IN_HAND.has(c.state) && mine(c)).sort(byDue);
  const finished = all.filter((c) => !waiting.includes(c) && !working.includes(c));
  document.body.dataset['dispatches'] = String(waiting.length);
  const group = (box: HTMLElement, title: string, cases: CaseView[], summary = false) => {
    const heading = el(summary ? 'summary' : 'h3', 'list-heading', `${title} · ${cases.length}`);
    const cards = cases.map((c) => officerCard(c, now));
    box.replaceChildren(heading, ...(cases.length || summary ? cards : [el('p', 'empty', to('noDispatches'))]));
  };
  if (team === null) {
    sections.waiting.replaceChildren(el('p', 'error', to('noTeam')));
    return;
  }
  group(sections.waiting, to('toAccept'), waiting);
  group(sections.working, to('inHand'), working);
  group(sections.finished, to('finished'), finished, true);
}

function officerCard(c: CaseView, now: number): HTMLElement {
  const card = caseCard(c, now);
  card.classList.toggle('fresh', fresh.has(c.id));
  if (c.stages_done?.length) {
    const stages = el('div', 'stages');
    for (const s of STAGES) {
      stages.append(el('span', `stage ${c.stages_done.includes(s) ? 'done' : ''}`, stageLabel(s)));
    }
    card.append(stages);
  }
  actions.decorate(card, c);
  return card;
}

/** An enforcement case in progress: the next stage, or (every stage recorded) the result. */
function enforcementForms(c: CaseView): HTMLElement[] {
  const next = STAGES[c.stages_done?.length ?? 0];
  return next ? [stageForm(c, next)] : [el('p', 'muted', to('allStagesDone')), submitForm(c)];
}

function stageForm(c: CaseView, stage: EnforcementStage): HTMLElement {
  const form = el('form', 'act-form form-stage');
  form.dataset['stage'] = stage;
  form.append(el('h4', undefined, `${to('nextStage')}: ${stageLabel(stage)}`));
  const officers = el('div', 'officers');
  for (const mate of teamMates) {
    const label = el('label', 'check');
    const box = el('input');
    box.type = 'checkbox';
    box.name = 'officer';
    box.value = mate.id;
    box.checked = mate.id === person.id;
    label.append(box, document.createTextNode(`${mate.name}`));
    officers.append(label);
  }
  form.append(field(to('officers'), officers));
  const evidence = evidencePicker();
  form.append(evidence.box);
  const note = el('input');
  note.name = 'note';
  form.append(field(t('note'), note));
  const decision = stage === 'decide' ? decisionFields() : null;
  if (decision) form.append(decision.box);
  const out = el('p', 'error');
  const go = el('button', 'primary wide', `${to('stage')}: ${stageLabel(stage)}`);
  go.type = 'submit';
  form.append(go);
  if (decision) {
    form.append(
      button('secondary wide review', to('requestReview'), () => {
        void runCommand(c, { kind: 'request_review', decision: decision.value() }, out);
      }),
    );
  }
  form.append(out);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (evidence.busy()) {
      out.textContent = ta('waitUploads');
      return;
    }
    const chosen = [...officers.querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value);
    const body: CommandBody = {
      kind: 'stage',
      stage,
      officers: chosen,
      evidence: evidence.value(),
      note: note.value,
      ...(decision ? { decision: decision.value() } : {}),
    };
    void runCommand(c, body, out);
  });
  return form;
}

function decisionFields(): { box: HTMLElement; value: () => Decision } {
  const box = el('fieldset', 'decision');
  box.append(el('legend', undefined, stageLabel('decide')));
  const kind = select('party-kind', [
    ['person', to('person')],
    ['organisation', to('organisation')],
  ]);
  const name = el('input');
  name.name = 'party_name';
  const idNumber = el('input');
  idNumber.name = 'party_id_number';
  const violation = el('input');
  violation.name = 'violation';
  const basis = el('input');
  basis.name = 'legal_basis';
  const fine = el('input');
  fine.type = 'number';
  fine.min = '0';
  fine.name = 'fine_yuan';
  fine.value = '0';
  const measures = el('div', 'measures');
  for (const [code, key] of MEASURES) {
    const label = el('label', 'check');
    const input = el('input');
    input.type = 'checkbox';
    input.name = 'measure';
    input.value = code;
    label.append(input, document.createTextNode(to(key)));
    measures.append(label);
  }
  box.append(
    field(to('partyKind'), kind),
    field(to('partyName'), name),
    field(to('partyId'), idNumber),
    field(to('violation'), violation),
    field(to('legalBasis'), basis),
    field(to('measures'), measures),
    field(to('fine'), fine),
  );
  const value = (): Decision => ({
    party_kind: kind.value as Decision['party_kind'],
    party_name: name.value.trim(),
    party_id_number: idNumber.value.trim() || null,
    violation: violation.value.trim(),
    legal_basis: basis.value.trim(),
    measures: [...measures.querySelectorAll<HTMLInputElement>('input:checked')].map(
      (i) => i.value as Decision['measures'][number],
    ),
    fine_yuan: Number(fine.value) || 0,
  });
  return { box, value };
}

// ---- start ----

async function loadTeam(): Promise<void> {
  if (!team) return;
  try {
    const people = await api.people({ unit: person.unit_code.slice(0, 9), role: user.role, limit: 100 });
    const mates = people.filter((p) => p.team_id === team);
    if (mates.length) teamMates = mates;
  } catch {
    // only me
  }
}

async function loadMine(): Promise<void> {
  if (!team) return;
  try {
    store.addAll(await api.cases({ assignee: team, limit: 200 }));
  } catch {
    // the live snapshot fills in
  }
}

onLangChange(() => {
  header.refreshLanguage();
  inbox.refreshLanguage();
  render();
});

live.start();
await Promise.all([loadTeam(), loadMine(), inbox.reload()]);
render();
exposeForTests({ cases: store.byId, live, person, user, sharing, inbox, cues: () => cues });
