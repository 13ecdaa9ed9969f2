// Box keys live in this browser only (localStorage, per identity): the
// server never receives a box's secret key. A box opened elsewhere is read
// here by opening its invitation link again.

import { session } from './api.js';

const slot = () => 'boxwire.keys.' + session().id;

export function all() {
  try { return JSON.parse(localStorage.getItem(slot()) || '{}'); } catch { return {}; }
}
export const of = (boxID) => all()[boxID];
export function save(boxID, keys) {
  const k = all();
  k[boxID] = { ...k[boxID], ...keys };
  localStorage.setItem(slot(), JSON.stringify(k));
}
