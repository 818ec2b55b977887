// localcloud's dashboard: loads the fleet from the JSON API, then follows the event stream
// (/api/stream, server-sent events): no polling. The map is Leaflet without tiles unless
// `serve --tiles URL` names a tile server: a latitude/longitude grid, the zones, the tracks.
'use strict';

const state = {
  things: new Map(),   // name -> {data, row, marker, line, points: [{lat, lng, time}]}
  events: new Set(),   // ids shown
  map: null,
  zoneLayer: null,
  gridLayer: null,
  source: null,
  fitted: false,
};

const $ = (selector) => document.querySelector(selector);

async function getJSON(path) {
  const response = await fetch(path, { cache: 'no-store' });
  if (!response.ok) throw new Error(path + ': HTTP ' + response.status);
  return response.json();
}

function colour(name) {
  let hash = 0;
  for (const c of name) hash = (hash * 31 + c.codePointAt(0)) >>> 0;
  return 'hsl(' + (hash % 360) + ', 65%, 42%)';
}

function clock(iso) {
  if (!iso) return '';
  const date = new Date(iso);
  return isNaN(date) ? iso : date.toISOString().slice(0, 19).replace('T', ' ') + 'Z';
}

function element(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes || {})) {
    if (value !== undefined && value !== null) node.setAttribute(key, value);
  }
  for (const child of children.flat()) node.append(child);
  return node;
}

// ---- the map ----

function setUpMap(config) {
  if (!window.L) {
    $('#map').append(element('p', { class: 'notice' }, 'Leaflet is not installed (Debian: apt install libjs-leaflet); the lists still update.'));
    return;
  }
  state.map = L.map('map', { worldCopyJump: true, preferCanvas: false }).setView([20, 0], 2);
  if (config.tiles) {
    L.tileLayer(config.tiles, { maxZoom: 19, attribution: 'tiles: ' + new URL(config.tiles.replace(/[{}]/g, ''), location.href).host }).addTo(state.map);
  } else {
    state.gridLayer = L.layerGroup().addTo(state.map);
    state.map.on('moveend', drawGrid);
    drawGrid();
  }
  state.map.attributionControl.setPrefix('Leaflet');
  state.zoneLayer = L.layerGroup().addTo(state.map);
}

// Lines every 1, 2 or 5 × 10^k degrees, some 6 to 15 across the view, with their values.
function drawGrid() {
  const bounds = state.map.getBounds();
  const span = Math.max(bounds.getEast() - bounds.getWest(), bounds.getNorth() - bounds.getSouth());
  const rough = span / 8;
  const power = Math.pow(10, Math.floor(Math.log10(rough)));
  const step = [1, 2, 5, 10].map((f) => f * power).find((s) => s >= rough) || 10 * power;
  const decimals = Math.max(0, -Math.floor(Math.log10(step)));
  state.gridLayer.clearLayers();
  const style = { color: '#9aa5b1', weight: 1, opacity: 0.5, interactive: false, className: 'grid' };
  const south = Math.max(-90, bounds.getSouth()), north = Math.min(90, bounds.getNorth());
  for (let lat = Math.ceil(south / step) * step; lat <= north; lat += step) {
    L.polyline([[lat, bounds.getWest()], [lat, bounds.getEast()]], style).addTo(state.gridLayer);
    L.marker([lat, bounds.getWest()], { interactive: false, icon: L.divIcon({ className: 'grid-label', html: lat.toFixed(decimals) + '°', iconAnchor: [-2, 12] }) }).addTo(state.gridLayer);
  }
  for (let lng = Math.ceil(bounds.getWest() / step) * step; lng <= bounds.getEast(); lng += step) {
    L.polyline([[south, lng], [north, lng]], style).addTo(state.gridLayer);
    L.marker([south, lng], { interactive: false, icon: L.divIcon({ className: 'grid-label', html: lng.toFixed(decimals) + '°', iconAnchor: [-2, 14] }) }).addTo(state.gridLayer);
  }
}

async function loadZones() {
  const zones = await getJSON('/api/zones');
  if (!state.map) return;
  state.zoneLayer.clearLayers();
  L.geoJSON(zones, {
    style: () => ({ color: '#555', weight: 2, fillColor: '#888', fillOpacity: 0.12, className: 'zone' }),
    pointToLayer: (feature, at) => feature.properties && feature.properties.radius_m
      ? L.circle(at, { radius: feature.properties.radius_m, className: 'zone' })
      : L.circleMarker(at, { radius: 4, className: 'zone' }),
    onEachFeature: (feature, layer) => {
      const name = feature.properties && feature.properties.name;
      // A node, not a string: Leaflet puts a string in as HTML, and a zone's name may come from a device.
      if (name) layer.bindTooltip(element('span', {}, String(name)), { permanent: true, direction: 'center', className: 'zone-label' });
    },
  }).addTo(state.zoneLayer);
  document.body.dataset.zones = zones.features.length;
  fitOnce();
}

function fitOnce() {
  if (state.fitted || !state.map) return;
  const bounds = L.latLngBounds([]);
  state.zoneLayer.eachLayer((group) => group.getBounds && bounds.extend(group.getBounds()));
  for (const thing of state.things.values()) if (thing.line && thing.points.length) bounds.extend(thing.line.getBounds());
  if (bounds.isValid()) {
    state.map.fitBounds(bounds.pad(0.15));
    state.fitted = true;
  }
}

// ---- things ----

function thingEntry(name) {
  let thing = state.things.get(name);
  if (thing) return thing;
  const row = element('tr', { 'data-thing': name });
  row.addEventListener('click', () => {
    if (state.map && thing.points.length) state.map.fitBounds(thing.line.getBounds().pad(0.2));
  });
  thing = { data: { thingName: name }, row, marker: null, line: null, points: [] };
  state.things.set(name, thing);
  const rows = [...state.things.keys()].sort();
  const body = $('#things tbody');
  const next = rows[rows.indexOf(name) + 1];
  body.insertBefore(row, next ? state.things.get(next).row : null);
  $('#thing-count').textContent = state.things.size;
  $('#no-things').hidden = true;
  if (state.map) {
    thing.line = L.polyline([], { color: colour(name), weight: 3, opacity: 0.8, className: 'track' }).addTo(state.map);
  }
  return thing;
}

function upsertThing(data) {
  const thing = thingEntry(data.thingName);
  thing.data = data;
  const row = thing.row;
  row.dataset.connected = data.connected;
  row.replaceChildren(
    element('td', {}, element('span', { class: 'swatch', style: 'background:' + colour(data.thingName) }), data.thingName,
      data.version ? element('div', { class: 'muted' }, 'trackerd ' + data.version) : ''),
    element('td', { class: 'connection' }, element('span', { class: data.connected ? 'online' : 'offline' }, data.connected ? '● online' : '○ offline'),
      data.connectionChangedAt ? element('div', { class: 'muted' }, 'since ' + clock(data.connectionChangedAt)) : ''),
    element('td', { class: 'position' }, data.lastPosition
      ? [data.lastPosition.lat.toFixed(5) + ', ' + data.lastPosition.lng.toFixed(5),
         element('div', { class: 'muted' }, clock(data.lastPosition.time) + (data.lastPosition.speed !== undefined ? ' · ' + (data.lastPosition.speed * 3.6).toFixed(0) + ' km/h' : '') + ' · ' + data.fixes + ' fixes')]
      : element('span', { class: 'muted' }, 'none yet')),
    element('td', { class: 'registered' }, data.registeredAt ? clock(data.registeredAt) : element('span', { class: 'muted' }, 'not provisioned here')));
  if (state.map && data.lastPosition) {
    const at = [data.lastPosition.lat, data.lastPosition.lng];
    if (!thing.marker) {
      thing.marker = L.circleMarker(at, { radius: 7, color: '#fff', weight: 2, fillColor: colour(data.thingName), fillOpacity: 1, className: 'thing-marker' })
        .bindTooltip(element('span', {}, data.thingName), { direction: 'top', offset: [0, -6] }).addTo(state.map);
    } else {
      thing.marker.setLatLng(at);
    }
    thing.marker.setStyle({ fillOpacity: data.connected ? 1 : 0.4 });
  }
}

// Merges points in by time (a backlog arrives late); a point already there is skipped.
function addPoints(name, points) {
  const thing = thingEntry(name);
  for (const point of points) {
    const list = thing.points;
    let index = list.length;
    while (index > 0 && list[index - 1].time > point.time) index--;
    if (index > 0 && list[index - 1].time === point.time) continue;
    list.splice(index, 0, point);
  }
  if (thing.points.length > 1000) thing.points.splice(0, thing.points.length - 1000);
  if (thing.line) thing.line.setLatLngs(thing.points.map((p) => [p.lat, p.lng]));
  document.body.dataset.points = [...state.things.values()].reduce((n, t) => n + t.points.length, 0);
  fitOnce();
}

// ---- events ----

function addEvent(event) {
  if (state.events.has(event.id)) return;
  state.events.add(event.id);
  const item = element('li', { 'data-id': event.id, 'data-kind': event.kind, 'data-thing': event.thing, 'data-event': event.event,
                               'data-lat': event.lat, 'data-lng': event.lng, title: JSON.stringify(event.detail) },
    element('span', { class: 'when' }, clock(event.time || event.receivedAt)),
    element('span', { class: 'who', style: 'color:' + colour(event.thing) }, event.thing),
    event.summary);
  if (event.lat !== null && event.lat !== undefined) {
    item.addEventListener('click', () => state.map && state.map.setView([event.lat, event.lng], Math.max(state.map.getZoom(), 15)));
  }
  // Newest first: ids only grow, so an older one (loaded after the stream's) goes in its place.
  const list = $('#events');
  let before = list.firstElementChild;
  while (before && Number(before.dataset.id) > event.id) before = before.nextElementSibling;
  list.insertBefore(item, before);
  while (list.children.length > 500) list.lastElementChild.remove();
  $('#event-count').textContent = state.events.size;
}

// ---- loading and following ----

async function loadAll() {
  const { stream, things } = await getJSON('/api/things');
  for (const data of things) upsertThing(data);
  await Promise.all(things.map((data) =>
    getJSON('/api/things/' + encodeURIComponent(data.thingName) + '/track').then((track) => addPoints(data.thingName, track.points))));
  const { events } = await getJSON('/api/events?limit=500');
  for (const event of events) addEvent(event);
  await loadZones();
  return stream;
}

function follow(after) {
  const source = new EventSource('/api/stream?after=' + after);
  state.source = source;
  const set = (value, text) => { document.body.dataset.stream = value; $('#stream-state').textContent = text; };
  source.onopen = () => set('open', 'live');
  source.onerror = () => set(source.readyState === EventSource.CLOSED ? 'closed' : 'connecting', source.readyState === EventSource.CLOSED ? 'disconnected' : 'reconnecting…');
  source.addEventListener('thing', (e) => upsertThing(JSON.parse(e.data)));
  source.addEventListener('track', (e) => { const m = JSON.parse(e.data); addPoints(m.thing, m.points); });
  source.addEventListener('event', (e) => addEvent(JSON.parse(e.data)));
  source.addEventListener('zones', () => loadZones());
  source.addEventListener('reset', async () => {
    // The server no longer holds all that was missed: load everything again, then follow on.
    source.close();
    follow(await loadAll());
  });
}

(async function start() {
  try {
    const config = await getJSON('/api/config');
    setUpMap(config);
    follow(await loadAll());
  } catch (error) {
    document.body.dataset.stream = 'closed';
    $('#stream-state').textContent = 'error: ' + error.message;
  }
})();
