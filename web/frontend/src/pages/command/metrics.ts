// The metrics view: closure, on-time closure, rework and extension rates with open and overdue
// counts per township, village, grid, team or grid member (GET /api/v1/metrics), a bar chart of
// the load per group, and two line charts of the last eight weeks: closure and on-time closure,
// rework (返工率) and extension (延期率). A week's rate over several groups is the ratio of the
// summed counts (sum(reworked) / sum(checked), …), never an average of the groups' rates.

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
import { categoryLabel, fill, formatTime, shanghaiDay, t } from '../../shared/i18n';
import { exportButtons } from './downloads';
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
  ['major_category', 'byMajorCategory'],
  ['category', 'byCategory'],
];
const WEEK_MS = 7 * 86_400_000;
const WEEKS = 8;

const percent = (v: number | null): string => (v === null ? '—' : `${Math.round(v * 1000) / 10}%`);

/** The counts of one period summed over its groups, and the rates of those sums (null: nothing to divide by). */
export interface PeriodRates {
  received: number;
  counted: number;
  closed: number;
  onTime: number;
  checked: number;
  reworked: number;
  extended: number;
  closure: number | null;
  onTimeRate: number | null;
  rework: number | null;
  extension: number | null;
}

export function periodRates(rows: readonly MetricsRow[]): PeriodRates {
  let received = 0;
  let cancelled = 0;
  let closed = 0;
  let onTime = 0;
  let checked = 0;
  let reworked = 0;
  let extended = 0;
  for (const r of rows) {
    received += r.received;
    cancelled += r.cancelled;
    closed += r.closed;
    onTime += r.on_time;
    checked += r.checked;
    reworked += r.reworked;
    extended += r.extended;
  }
  const counted = received - cancelled;
  const ratio = (part: number, whole: number) => (whole > 0 ? part / whole : null);
  return {
    received,
    counted,
    closed,
    onTime,
    checked,
    reworked,
    extended,
    closure: ratio(closed, counted),
    onTimeRate: ratio(onTime, closed),
    rework: ratio(reworked, checked),
    extension: ratio(extended, counted),
  };
}

/** What the charts over time show (window.__app.metrics() for tests). */
export interface MetricsSeries {
  labels: string[];
  closure: Array<number | null>;
  onTime: Array<number | null>;
  rework: Array<number | null>;
  extension: Array<number | null>;
  periods: PeriodRates[];
}

export class MetricsView {
  readonly root = el('section', 'metrics-view');
  private readonly by = select('metrics-by', []);
  private readonly days = select('metrics-days', []);
  private readonly table = el('table', 'metrics-table');
  private readonly barCanvas = el('canvas');
  private readonly lineCanvas = el('canvas');
  private readonly qualityCanvas = el('canvas');
  private readonly status = el('p', 'muted');
  private bar: Chart | null = null;
  private line: Chart | null = null;
  private quality: Chart | null = null;
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
    this.qualityCanvas.className = 'metrics-quality';
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
      exportButtons('/api/v1/metrics/export', () => this.exportQuery(), tc('metrics')),
      button('link metrics-close', tc('close'), this.onClose),
    );
    const charts = el('div', 'metrics-charts');
    const barBox = el('figure', 'chart-box');
    barBox.append(el('figcaption', undefined, tc('loadByGroup')), this.barCanvas);
    const lineBox = el('figure', 'chart-box');
    lineBox.append(el('figcaption', undefined, tc('weekly')), this.lineCanvas);
    const qualityBox = el('figure', 'chart-box');
    qualityBox.append(el('figcaption', undefined, tc('weeklyQuality')), this.qualityCanvas);
    charts.append(barBox, lineBox, qualityBox);
    const tableBox = el('div', 'metrics-table-box');
    tableBox.append(this.table);
    this.root.replaceChildren(head, charts, tableBox);
  }

  /** The grouping and period on screen, as the export's query. */
  private exportQuery(): Record<string, string> {
    const end = new Date();
    const start = new Date(end.getTime() - Number(this.days.value) * 86_400_000);
    return { by: this.by.value || 'township', from: start.toISOString(), to: end.toISOString() };
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
    if (by === 'major_category' || by === 'category') return `${key} ${categoryLabel(key)}`;
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

  /** The rates of each of the last eight weeks, summed over the groups. */
  series(): MetricsSeries {
    const periods = this.weekly.map(({ rows }) => periodRates(rows));
    return {
      labels: this.weekly.map((w) => w.label),
      closure: periods.map((p) => pct(p.closure)),
      onTime: periods.map((p) => pct(p.onTimeRate)),
      rework: periods.map((p) => pct(p.rework)),
      extension: periods.map((p) => pct(p.extension)),
      periods,
    };
  }

  private drawLine(): void {
    const series = this.series();
    this.line = this.drawRates(this.line, this.lineCanvas, series.labels, [
      { label: tc('mClosure'), data: series.closure, borderColor: '#1c7ed6', backgroundColor: '#1c7ed6' },
      { label: tc('mOnTime'), data: series.onTime, borderColor: '#2f9e44', backgroundColor: '#2f9e44' },
    ]);
    this.quality = this.drawRates(this.quality, this.qualityCanvas, series.labels, [
      { label: tc('mRework'), data: series.rework, borderColor: '#e03131', backgroundColor: '#e03131' },
      { label: tc('mExtension'), data: series.extension, borderColor: '#f08c00', backgroundColor: '#f08c00' },
    ]);
    // What each week's rates are made of, in the tooltips' footers and for tests.
    this.qualityCanvas.dataset['rework'] = JSON.stringify(series.rework);
    this.qualityCanvas.dataset['extension'] = JSON.stringify(series.extension);
  }

  private drawRates(
    chart: Chart | null,
    canvas: HTMLCanvasElement,
    labels: string[],
    datasets: Array<{ label: string; data: Array<number | null>; borderColor: string; backgroundColor: string }>,
  ): Chart {
    const data = { labels, datasets };
    if (chart) {
      chart.data = data;
      chart.update();
      return chart;
    }
    const periods = () => this.series().periods;
    return new Chart(canvas, {
      type: 'line',
      data,
      options: {
        animation: false,
        maintainAspectRatio: false,
        spanGaps: true,
        scales: { y: { min: 0, max: 100, ticks: { callback: (v) => `${v}%` } } },
        plugins: {
          tooltip: {
            callbacks: {
              footer: (items) => {
                const p = periods()[items[0]?.dataIndex ?? -1];
                if (!p) return '';
                return fill(tc('periodCounts'), {
                  received: p.counted,
                  closed: p.closed,
                  checked: p.checked,
                  reworked: p.reworked,
                  extended: p.extended,
                });
              },
            },
          },
        },
      },
    });
  }
}

function pct(v: number | null): number | null {
  return v === null ? null : Math.round(v * 1000) / 10;
}
