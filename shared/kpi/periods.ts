/**
 * Calendar periods in the municipalities' own time zone (Europe/Athens): a day, ISO week or month
 * starts at local midnight, so "kWh on Monday" means the Greek Monday. Aggregate windows start on
 * UTC quarter hours and Athens is a whole number of hours off UTC, so a window never straddles two
 * local days.
 */
export type Interval = 'hour' | 'day' | 'week' | 'month';

export const TIME_ZONE = 'Europe/Athens';

const parts = new Intl.DateTimeFormat('en-CA', {
  timeZone: TIME_ZONE,
  year: 'numeric',
  month: '2-digit',
  day: '2-digit',
  weekday: 'short',
  hour: '2-digit',
  hourCycle: 'h23',
});

const WEEKDAY_INDEX: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

function localDate(ts: number): { y: number; m: number; d: number; h: number; weekday: number } {
  const p = Object.fromEntries(parts.formatToParts(new Date(ts)).map((x) => [x.type, x.value]));
  return { y: Number(p.year), m: Number(p.month), d: Number(p.day), h: Number(p.hour), weekday: WEEKDAY_INDEX[p.weekday ?? 'Mon'] ?? 0 };
}

const pad = (n: number) => String(n).padStart(2, '0');

/** The label of the period holding `ts`: `2026-11-23T14` (hour), `2026-11-23` (day), `2026-W48` (ISO week), `2026-11` (month). */
export function periodOf(ts: number, interval: Interval): string {
  const { y, m, d, h, weekday } = localDate(ts);
  switch (interval) {
    case 'hour':
      return `${y}-${pad(m)}-${pad(d)}T${pad(h)}`;
    case 'day':
      return `${y}-${pad(m)}-${pad(d)}`;
    case 'month':
      return `${y}-${pad(m)}`;
    case 'week': {
      // ISO 8601: the week belongs to the year of its Thursday.
      const thursday = new Date(Date.UTC(y, m - 1, d + 3 - weekday));
      const isoYear = thursday.getUTCFullYear();
      const week = Math.floor((thursday.getTime() - Date.UTC(isoYear, 0, 1)) / 86_400_000 / 7) + 1;
      return `${isoYear}-W${pad(week)}`;
    }
  }
}

const clock = new Intl.DateTimeFormat('en-CA', { timeZone: TIME_ZONE, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit' });

/** Athens' offset from UTC at `ts`, in ms (+2 h in winter, +3 h in summer). */
export function offsetAt(ts: number): number {
  const p = Object.fromEntries(clock.formatToParts(new Date(ts)).map((x) => [x.type, Number(x.value)]));
  return Date.UTC(p.year!, p.month! - 1, p.day, p.hour, p.minute) - Math.floor(ts / 60_000) * 60_000;
}

/**
 * Local midnight of a calendar date (`2026-11-23`) in Europe/Athens, epoch ms. The offset is read
 * at UTC midnight (02:00–03:00 local), before any DST switch of that day (03:00/04:00 local).
 */
export function localMidnight(date: string): number {
  const [y = 0, m = 1, d = 1] = date.split('-').map(Number);
  const utc = Date.UTC(y, m - 1, d);
  return utc - offsetAt(utc);
}
