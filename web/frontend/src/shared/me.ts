// The registry person behind the signed-in account (name, team, grid posts), kept in localStorage
// too, so that a phone page started offline still knows its person's name and grid.

import { api, type Person } from './api';
import type { User } from './session';

const KEY = 'gridcmd.person.';

function cached(id: string): Person | null {
  try {
    const text = localStorage.getItem(KEY + id);
    return text ? (JSON.parse(text) as Person) : null;
  } catch {
    return null;
  }
}

function cache(person: Person): void {
  try {
    localStorage.setItem(KEY + person.id, JSON.stringify(person));
  } catch {
    // not kept
  }
}

/** The person the user acts for (from the API, else as last seen, else what the token says); null for none. */
export async function myPerson(user: User): Promise<Person | null> {
  const id = user.person_id;
  if (!id) return null;
  try {
    const person = await api.person(id);
    cache(person);
    return person;
  } catch {
    return (
      cached(id) ?? {
        id,
        name: user.username,
        role: user.role,
        unit_code: user.unit_code,
        team_id: user.team_id,
        team_name: null,
        posts: [],
      }
    );
  }
}
