// The municipality dashboard: signs in with an API key (kept in this tab's sessionStorage only),
// then draws the KPI API's numbers with Chart.js and refreshes them every 30 seconds.
'use strict';

const $ = (id) => document.getElementById(id);
const REFRESH_MS = 30_000;
const COLORS = ['#0d3b66', '#f95738', '#3a86ff', '#ee964b', '#2a9d8f', '#8338ec', '#e9c46a', '#6a994e', '#bc4749', '#457b9d'];
const charts = {};
let me = null;
let timer = null;

// A key can arrive in the URL fragment (printed by `npm start`); fragments never reach the server.
const fromHash = new URLSearchParams(location.hash.slice(1)).get('key');
if (fromHash) {
  sessionStorage.setItem('kpiKey', fromHash);
  history.replaceState(null, '', location.pathname);
}

async function api(path) {
  const res = await fetch(`/api/v1${path}`, { headers: { authorization: `Bearer ${sessionStorage.getItem('kpiKey')}` } });
  const body = await res.json();
  if (!res.ok) throw Object.assign(new Error(body.message || res.statusText), { status: res.status });
  return body;
}

function draw(id, config) {
  const canvas = $(id);
  const points = config.data.datasets.reduce((n, d) => n + d.data.length, 0);
  canvas.dataset.points = String(points); // what the end-to-end test reads
  if (charts[id]) charts[id].destroy();
  charts[id] = new Chart(canvas, { ...config, options: { animation: false, responsive: true, maintainAspectRatio: true, ...config.options } });
}

const fmt = (v, digits = 0) => (v === null || v === undefined ? '–' : Number(v).toLocaleString('en-GB', { maximumFractionDigits: digits }));

/** Rows of text into a table's body (textContent: nothing from the API is read as HTML). */
function fillTable(id, rows) {
  $(id)
    .querySelector('tbody')
    .replaceChildren(
      ...rows.map((cells) => {
        const tr = document.createElement('tr');
        for (const v of cells) {
          const td = document.createElement('td');
          td.textContent = v;
          tr.append(td);
        }
        return tr;
      }),
    );
}

async function refresh() {
  const municipality = $('municipality').value;
  const days = Number($('range').value);
  const to = Date.now();
  const from = to - days * 86_400_000;
  const range = `from=${from}&to=${to}`;
  const base = `/municipalities/${encodeURIComponent(municipality)}`;
  try {
    const [hourly, energy, total, fleet, parking, health, alarms] = await Promise.all([
      api(`${base}/energy?from=${to - 86_400_000}&to=${to}&interval=hour&by=building`),
      api(`${base}/energy?${range}&interval=day&by=building`),
      api(`${base}/energy?${range}&interval=day&by=municipality`),
      api(`${base}/mobility/fleet?${range}`),
      api(`${base}/mobility/parking?${range}`),
      api(`${base}/health?silentMinutes=15`),
      // Open alarms of the last 90 days (by when their condition began), newest first.
      api(`${base}/alarms?state=raised&from=${to - 90 * 86_400_000}&to=${to + 86_400_000}`),
    ]);
    $('error').textContent = '';

    const hours = [...new Set(hourly.rows.map((r) => r.period))];
    const hourlyBuildings = [...new Set(hourly.rows.map((r) => r.group))];
    draw('chart-hourly', {
      type: 'line',
      data: {
        labels: hours.map((h) => `${h.slice(8, 10)}/${h.slice(5, 7)} ${h.slice(11)}:00`),
        datasets: hourlyBuildings.map((b, i) => ({
          label: b,
          borderColor: COLORS[i % COLORS.length],
          backgroundColor: COLORS[i % COLORS.length],
          pointRadius: 2,
          data: hours.map((h) => hourly.rows.find((r) => r.period === h && r.group === b)?.kwh ?? 0),
        })),
      },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: 'kWh' } } } },
    });

    const periods = [...new Set(energy.rows.map((r) => r.period))];
    const buildings = [...new Set(energy.rows.map((r) => r.group))];
    draw('chart-energy', {
      type: 'bar',
      data: {
        labels: periods,
        datasets: buildings.map((b, i) => ({
          label: b,
          backgroundColor: COLORS[i % COLORS.length],
          data: periods.map((p) => energy.rows.find((r) => r.period === p && r.group === b)?.kwh ?? 0),
        })),
      },
      options: { scales: { x: { stacked: true }, y: { stacked: true, title: { display: true, text: 'kWh' } } } },
    });
    draw('chart-peak', {
      type: 'bar',
      data: { labels: total.rows.map((r) => r.period), datasets: [{ label: 'peak kW', borderColor: COLORS[1], backgroundColor: COLORS[1], data: total.rows.map((r) => r.peak_kw) }] },
      options: { scales: { y: { beginAtZero: true, title: { display: true, text: 'kW' } } } },
    });
    draw('chart-fleet', {
      type: 'bar',
      data: {
        labels: fleet.rows.map((r) => r.device),
        datasets: [
          { label: 'km', backgroundColor: COLORS[0], data: fleet.rows.map((r) => r.distance_km), yAxisID: 'y' },
          { label: 'idle %', backgroundColor: COLORS[3], data: fleet.rows.map((r) => r.idle_pct ?? 0), yAxisID: 'pct' },
        ],
      },
      options: { scales: { y: { title: { display: true, text: 'km' } }, pct: { position: 'right', min: 0, max: 100, grid: { drawOnChartArea: false } } } },
    });
    draw('chart-parking', {
      type: 'bar',
      data: {
        labels: parking.rows.map((r) => r.lot),
        datasets: [
          { label: 'occupancy %', backgroundColor: COLORS[4], data: parking.rows.map((r) => r.occupancy_pct ?? 0), yAxisID: 'pct' },
          { label: 'turnover', backgroundColor: COLORS[5], data: parking.rows.map((r) => r.turnover_per_bay_day), yAxisID: 'y' },
        ],
      },
      options: { scales: { pct: { position: 'left', min: 0, max: 100 }, y: { position: 'right', grid: { drawOnChartArea: false } } } },
    });

    const kwh = total.rows.reduce((s, r) => s + r.kwh, 0);
    const peak = Math.max(0, ...total.rows.map((r) => r.peak_kw));
    const km = fleet.rows.reduce((s, r) => s + r.distance_km, 0);
    const occupied = parking.rows.filter((r) => r.occupancy_pct !== null);
    const online = health.rows.filter((r) => !r.silent).length;
    $('tile-kwh').textContent = fmt(kwh);
    $('tile-peak').textContent = fmt(peak, 1);
    $('tile-km').textContent = fmt(km, 1);
    $('tile-occ').textContent = occupied.length ? fmt(occupied.reduce((s, r) => s + r.occupancy_pct, 0) / occupied.length, 1) : '–';
    $('tile-online').textContent = String(online);
    $('tile-devices').textContent = `of ${health.rows.length}`;

    fillTable('alarms', alarms.rows.map((r) => [r.severity, r.rule, r.subject, new Date(r.raisedAt).toLocaleString('en-GB')]));
    fillTable('silent', health.rows.filter((r) => r.silent).map((r) => [r.device, r.kind, r.last_seen ? new Date(r.last_seen).toLocaleString('en-GB') : 'never']));
    $('updated').textContent = `updated ${new Date().toLocaleTimeString('en-GB')}`;
    document.body.dataset.loaded = 'true';
  } catch (err) {
    if (err.status === 401) return signOut('Your key is not valid any more.');
    $('error').textContent = err.message;
  }
}

async function start() {
  try {
    me = await api('/me');
  } catch (err) {
    return signOut(err.status === 401 ? 'That key was not accepted.' : err.message);
  }
  $('signin').hidden = true;
  $('dashboard').hidden = false;
  $('controls').hidden = false;
  $('tenant').textContent = me.admin ? '— platform operator' : `— ${me.municipality}`;
  $('municipality').replaceChildren(...me.municipalities.map((m) => Object.assign(document.createElement('option'), { value: m, textContent: m })));
  $('municipality').disabled = !me.admin;
  await refresh();
  clearInterval(timer);
  timer = setInterval(refresh, REFRESH_MS);
}

function signOut(message = '') {
  sessionStorage.removeItem('kpiKey');
  clearInterval(timer);
  $('dashboard').hidden = true;
  $('controls').hidden = true;
  $('signin').hidden = false;
  $('signin-error').textContent = message;
}

$('signin-form').addEventListener('submit', (e) => {
  e.preventDefault();
  sessionStorage.setItem('kpiKey', $('key').value.trim());
  start();
});
$('signout').addEventListener('click', () => signOut());
$('municipality').addEventListener('change', refresh);
$('range').addEventListener('change', refresh);

if (sessionStorage.getItem('kpiKey')) start();
else signOut();
