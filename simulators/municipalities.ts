/**
 * The four default tenants of the programme (Petroupoli, Mytilene, Kalamata, Orestiada) with real
 * centre coordinates, a few districts, municipal buildings and vehicle routes around the centre.
 */
export interface Municipality {
  id: string;
  name: string;
  center: { lat: number; lon: number };
  districts: string[];
  /** Waypoints (lat, lon) of a loop through the town, driven by the fleet. */
  route: [number, number][];
  lots: { id: string; district: string; capacity: number }[];
}

/** A closed loop of `n` waypoints on an irregular ring of roughly `radiusKm` around the centre. */
function loop(lat: number, lon: number, radiusKm: number, n = 12): [number, number][] {
  const kmPerDegLat = 110.574;
  const kmPerDegLon = 111.32 * Math.cos((lat * Math.PI) / 180);
  return Array.from({ length: n }, (_, i) => {
    const a = (2 * Math.PI * i) / n;
    const r = radiusKm * (0.75 + 0.25 * Math.sin(3 * a));
    return [lat + (r * Math.sin(a)) / kmPerDegLat, lon + (r * Math.cos(a)) / kmPerDegLon] as [number, number];
  });
}

const lotsFor = (prefix: string, districts: string[]) =>
  districts.slice(0, 3).map((district, i) => ({ id: `${prefix}-lot-${i + 1}`, district, capacity: [40, 25, 60][i]! }));

const make = (id: string, name: string, lat: number, lon: number, districts: string[], radiusKm: number): Municipality => ({
  id,
  name,
  center: { lat, lon },
  districts,
  route: loop(lat, lon, radiusKm),
  lots: lotsFor(id, districts),
});

export const MUNICIPALITIES: Municipality[] = [
  make('petroupoli', 'Petroupoli', 38.0412, 23.6848, ['kentro', 'ano-petroupoli', 'agios-dimitrios'], 1.6),
  make('mytilene', 'Mytilene', 39.1047, 26.5552, ['kentro', 'epano-skala', 'kato-skala', 'akleidiou'], 1.8),
  make('kalamata', 'Kalamata', 37.0389, 22.1142, ['kentro', 'paralia', 'verga', 'analipsi'], 2.5),
  make('orestiada', 'Orestiada', 41.5025, 26.531, ['kentro', 'neos-oikismos', 'palaia-orestiada'], 1.5),
];

export const municipalityById = (id: string) => MUNICIPALITIES.find((m) => m.id === id);
