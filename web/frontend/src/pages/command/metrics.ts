// The metrics view: closure, on-time closure, rework and extension rates with open and overdue
// counts per township, village, grid, team or grid member (GET /api/v1/metrics), a bar chart of
// the load per group and a line chart of the last eight weeks.

import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LineController,
  LineElement,
  LinearScale,
  PointElement,
  Tooltip,
} from 'chart.js';
import { api, type MetricsDimension, type MetricsRow } from '../../shared/api';
import { button, el, field, select } from '../../shared/dom';
import { formatTime, shanghaiDay, t } from '../../shared/i18n';
import { tc } from './texts';

Chart.register(
  BarController,
  BarElement,
  CategoryScale,
  LinearScale,
  Legend,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
);

const DIMENSIONS: Array<[MetricsDimension, Parameters<typeof tc>[0]]> = [
  ['township', 'byTownship'],
  ['village', 'byVillage'],
  ['grid', 'byGrid'],
  ['team', 'byTeam'],
  ['person', 'byPerson'],
];
const WEEK_MS = 7 * 86_400_000;
const WEEKS = 8;

const percent = (v: number | null): string => (v === null ? '—' : `${Math.round(v * 1000) / 10}%`);

export class MetricsView {
  readonly root = el('section', 'metrics-view');
  private readonly by = select('metrics-by', []);
  private readonly days = select('metrics-days', []);
  private readonly table = el('table', 'metrics-table');
  private readonly barCanvas = el('canvas');
  private readonly lineCanvas = el('canvas');
  private readonly status = el('p', 'muted');
  private bar: Chart | null = null;
  private line: Chart | null = null;
  private rows: MetricsRow[] = [];
  private weekly: Array<{ label: string; rows: MetricsRow[] }> = [];
  private loading = 0;

  constructor(
    private readonly onClose: () => void,
    private readonly lookupName: (by: MetricsDimension, key: string) => string | undefined,
  ) {
    this.root.hidden = true;
    this.by.name = 'by';
    this.days.name = 'days';
    this.by.addEventListener('change', () => void this.load());
    this.days.addEventListener('change', () => void this.load());
    this.barCanvas.className = 'metrics-bar';
    this.lineCanvas.className = 'metrics-line';
    this.render();
  }

  show(): void {
    this.root.hidden = false;
    void this.load();
  }

  hide(): void {
    this.root.hidden = true;
  }

  get visible(): boolean {
    return !this.root.hidden;
  }

  refreshLanguage(): void {
    this.render();
    this.draw();
  }

  private render(): void {
    const by = this.by.value || 'township';
    const days = this.days.value || '30';
    this.by.replaceChildren(
      ...DIMENSIONS.map(([value, key]) => {
        const o = el('option', undefined, tc(key));
        o.value = value;
        return o;
      }),
    );
    this.by.value = by;
    this.days.replaceChildren(
      ...['7', '30', '90'].map((d) => {
        const o = el('option', undefined, `${d} ${tc('days')}`);
        o.value = d;
        return o;
      }),
    );
    this.days.value = days;
    const head = el('div', 'metrics-head');
    head.append(
      el('h2', undefined, tc('metrics')),
      field(tc('by'), this.by, 'field inline'),
      field(tc('period'), this.days, 'field inline'),
      this.status,
      button('link metrics-close', tc('close'), this.onClose),
    );
    const charts = el('div', 'metrics-charts');
    const barBox = el('figure', 'chart-box');
    barBox.append(el('figcaption', undefined, tc('loadByGroup')), this.barCanvas);
    const lineBox = el('figure', 'chart-box');
    lineBox.append(el('figcaption', undefined, tc('weekly')), this.lineCanvas);
    charts.append(barBox, lineBox);
    const tableBox = el('div', 'metrics-table-box');
    tableBox.append(this.table);
    this.root.replaceChildren(head, charts, tableBox);
  }

  private async load(): Promise<void> {
    const seq = ++this.loading;
    const by = this.by.value as MetricsDimension;
    const end = new Date();
    const start = new Date(end.getTime() - Number(this.days.value) * 86_400_000);
    this.status.textContent = tc('loading');
    try {
      const weeks = Array.from({ length: WEEKS }, (_, i) => {
        const to = new Date(end.getTime() - (WEEKS - 1 - i) * WEEK_MS);
        return { from: new Date(to.getTime() - WEEK_MS), to };
      });
      const [rows, ...weekly] = await Promise.all([
        api.metrics(by, start, end),
        ...weeks.map((w) => api.metrics('township', w.from, w.to)),
      ]);
      if (seq !== this.loading) return;
      this.rows = rows ?? [];
      this.weekly = weekly.map((r, i) => ({ label: shanghaiDay(weeks[i]?.to ?? end).slice(5), rows: r }));
      this.status.textContent = `${formatTime(start.toISOString())} – ${formatTime(end.toISOString())}`;
      this.root.dataset['rows'] = String(this.rows.length);
      this.draw();
    } catch (error) {
      if (seq === this.loading) this.status.textContent = `${t('loadFailed')}: ${String(error)}`;
    }
  }

  private name(key: string): string {
    const by = this.by.value as MetricsDimension;
    return this.lookupName(by, key) ?? key;
  }

  private draw(): void {
    this.drawTable();
    this.drawBar();
    this.drawLine();
  }

  private drawTable(): void {
    const head = el('tr');
    for (const label of [
      tc('name'),
      tc('mReceived'),
      tc('mClosed'),
      tc('mClosure'),
      tc('mOnTime'),
      tc('mRework'),
      tc('mExtension'),
      tc('mOpen'),
      tc('mOverdue'),
    ]) {
      head.append(el('th', undefined, label));
    }
    const thead = el('thead');
    thead.append(head);
    const tbody = el('tbody');
    const rows = [...this.rows].sort((a, b) => b.open - a.open || b.received - a.received);
    for (const r of rows) {
      const tr = el('tr');
      tr.dataset['key'] = r.key;
      for (const value of [
        this.name(r.key),
        String(r.received),
        String(r.closed),
        percent(r.closure_rate),
        percent(r.on_time_rate),
        percent(r.rework_rate),
        percent(r.extension_rate),
        String(r.open),
        String(r.overdue),
      ]) {
        tr.append(el('td', undefined, value));
      }
      tbody.append(tr);
    }
    if (rows.length === 0) {
      const tr = el('tr');
      const td = el('td', 'empty', t('empty'));
      td.colSpan = 9;
      tr.append(td);
      tbody.append(tr);
    }
    this.table.replaceChildren(thead, tbody);
  }

  private drawBar(): void {
    const rows = [...this.rows].sort((a, b) => b.open - a.open).slice(0, 15);
    const data = {
      labels: rows.map((r) => this.name(r.key)),
      datasets: [
        { label: tc('mOpen'), data: rows.map((r) => r.open), backgroundColor: '#f08c00', maxBarThickness: 36 },
        { label: tc('mOverdue'), data: rows.map((r) => r.overdue), backgroundColor: '#e03131', maxBarThickness: 36 },
      ],
    };
    if (this.bar) {
      this.bar.data = data;
      this.bar.update();
      return;
    }
    this.bar = new Chart(this.barCanvas, {
      type: 'bar',
      data,
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
      },
    });
  }

  private drawLine(): void {
    // Sums over every township; rates whose parts are recoverable from each row's counts.
    const points = this.weekly.map(({ rows }) => {
      let received = 0;
      let cancelled = 0;
      let closed = 0;
      let onTime = 0;
      let extended = 0;
      for (const r of rows) {
        received += r.received;
        cancelled += r.cancelled;
        closed += r.closed;
        onTime += Math.round((r.on_time_rate ?? 0) * r.closed);
        extended += Math.round((r.extension_rate ?? 0) * (r.received - r.cancelled));
      }
      const counted = received - cancelled;
      return {
        closure: counted ? closed / counted : null,
        onTime: closed ? onTime / closed : null,
        extension: counted ? extended / counted : null,
      };
    });
    const data = {
      labels: this.weekly.map((w) => w.label),
      datasets: [
        { label: tc('mClosure'), data: points.map((p) => pct(p.closure)), borderColor: '#1c7ed6' },
        { label: tc('mOnTime'), data: points.map((p) => pct(p.onTime)), borderColor: '#2f9e44' },
        { label: tc('mExtension'), data: points.map((p) => pct(p.extension)), borderColor: '#f08c00' },
      ],
    };
    if (this.line) {
      this.line.data = data;
      this.line.update();
      return;
    }
    this.line = new Chart(this.lineCanvas, {
      type: 'line',
      data,
      options: {
        animation: false,
        maintainAspectRatio: false,
        spanGaps: true,
        scales: { y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } },
      },
    });
  }
}

function pct(v: number | null): number | null {
  return v === null ? null : Math.round(v * 1000) / 10;
}
