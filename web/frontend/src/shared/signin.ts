// The sign-in gate of every page: the sign-in form (username and password, with the reasons a sign-in
// fails and the language switch), the check that the account's role fits the page, the sign-out
// button, and the form again when the session ends (refresh refused, signed out here or in another
// tab). The page keeps what it holds under the form; signing in as someone else reloads it.

import { button, el, field } from './dom';
import type { Header } from './header';
import { fill, onLangChange, roleLabel, t, toggleLang } from './i18n';
import {
  AuthHttpError,
  SignInRequired,
  currentUser,
  lastUsername,
  onSession,
  signIn,
  signOut,
  whoAmI,
  type User,
} from './session';

export type { User } from './session';

/** Roles of each page, and where each role's page is. */
export const COMMAND_ROLES = ['dispatcher', 'township_leader', 'county_supervisor', 'admin'] as const;
export const WORKER_ROLES = ['grid_member', 'duty'] as const;
export const OFFICER_ROLES = ['officer', 'agency_staff'] as const;

function pageFor(role: string): string | null {
  if ((COMMAND_ROLES as readonly string[]).includes(role)) return '/';
  if ((WORKER_ROLES as readonly string[]).includes(role)) return '/m/worker';
  if ((OFFICER_ROLES as readonly string[]).includes(role)) return '/m/officer';
  return null;
}

export interface Gate {
  /** Roles that may use the page. */
  roles: readonly string[];
  header: Header;
  /** What the page holds that waits for the sign-in (e.g. reports to send), said on the form; '' for nothing. */
  waiting?: () => string;
}

/** Redraws the open sign-in form (after what `Gate.waiting` says has changed). */
let redrawForm: (() => void) | null = null;
export function refreshSignInForm(): void {
  redrawForm?.();
}

type Reason = 'start' | 'expired' | 'signed-out';

/**
 * The signed-in user of a page whose role is one of `gate.roles`: the stored session if the server
 * still takes it (or, offline, as it was stored), else whoever signs in through the form.
 */
export async function requireUser(gate: Gate): Promise<User> {
  let user = await startingUser();
  for (;;) {
    user ??= await askToSignIn(gate, 'start');
    if (gate.roles.includes(user.role)) break;
    await wrongRole(gate, user);
    user = null;
  }
  const pageUser = user;
  gate.header.enableSignOut(() => void signOut());
  onSession((event, who) => {
    if (event === 'expired' || event === 'signed-out') {
      void askToSignIn(gate, event).then((next) => {
        if (next.username !== pageUser.username) location.reload();
      });
    } else if (who && who.username !== pageUser.username) {
      location.reload(); // another tab signed in as someone else
    }
  });
  return pageUser;
}

async function startingUser(): Promise<User | null> {
  const held = currentUser();
  if (!held) return null;
  try {
    return await whoAmI();
  } catch (error) {
    if (error instanceof SignInRequired) return null;
    if (error instanceof AuthHttpError && error.status === 401) return null;
    // Offline, or the server is in trouble: start with the user as stored; calls refresh or ask later.
    return held;
  }
}

function overlay(className: string): { root: HTMLElement; lang: HTMLButtonElement } {
  const root = el('div', `signin-overlay ${className}`);
  const lang = el('button', 'lang-switch');
  lang.type = 'button';
  lang.addEventListener('click', toggleLang);
  document.body.append(root);
  return { root, lang };
}

let asking: Promise<User> | null = null;

/** Shows the sign-in form until someone signs in (here, or in another tab); one form at a time. */
function askToSignIn(gate: Gate, reason: Reason): Promise<User> {
  if (asking) return asking;
  asking = new Promise<User>((resolve) => {
    const { root, lang } = overlay('signin-page');
    const form = el('form', 'signin');
    form.noValidate = true;
    const heading = el('h2', 'signin-title');
    const top = el('div', 'signin-top');
    top.append(heading, lang);
    const note = el('p', 'signin-note');
    const waiting = el('p', 'signin-waiting');
    const username = el('input');
    username.name = 'username';
    username.autocomplete = 'username';
    username.autocapitalize = 'none';
    username.spellcheck = false;
    username.required = true;
    username.maxLength = 64;
    username.value = reason === 'start' ? lastUsername() : (currentUser()?.username ?? lastUsername());
    const password = el('input');
    password.name = 'password';
    password.type = 'password';
    password.autocomplete = 'current-password';
    password.required = true;
    const userLabel = field('', username);
    const passLabel = field('', password);
    const submit = el('button', 'primary signin-submit');
    submit.type = 'submit';
    const error = el('p', 'error signin-error');
    error.setAttribute('role', 'alert');
    form.append(top, note, waiting, userLabel, passLabel, submit, error);
    root.append(form);
    document.body.dataset['signin'] = '1';

    let errorText: () => string = () => '';
    let busy = false;
    const relabel = () => {
      heading.textContent = `${gate.header.pageTitle} · ${t('signInTitle')}`;
      lang.textContent = t('langSwitch');
      lang.title = t('langSwitchHint');
      note.textContent = reason === 'expired' ? t('sessionExpired') : reason === 'signed-out' ? t('signedOut') : '';
      note.hidden = reason === 'start';
      waiting.textContent = gate.waiting?.() ?? '';
      waiting.hidden = !waiting.textContent;
      userLabel.querySelector('.field-label')!.textContent = t('username');
      passLabel.querySelector('.field-label')!.textContent = t('password');
      submit.textContent = busy ? t('signingIn') : t('signIn');
      error.textContent = errorText();
    };
    const stopLang = onLangChange(relabel);
    redrawForm = relabel;
    relabel();
    (username.value ? password : username).focus();

    let finished = false;
    const finish = (user: User) => {
      if (finished) return;
      finished = true;
      stopLang();
      stopSession();
      root.remove();
      delete document.body.dataset['signin'];
      asking = null;
      redrawForm = null;
      resolve(user);
    };
    // Signed in in another tab meanwhile.
    const stopSession = onSession((event, who) => {
      if (event === 'signed-in' && who) finish(who);
    });

    form.addEventListener('submit', (e) => {
      e.preventDefault();
      if (busy) return;
      const name = username.value.trim();
      if (!name || !password.value) {
        errorText = () => t('fillBoth');
        relabel();
        return;
      }
      busy = true;
      submit.disabled = true;
      errorText = () => '';
      relabel();
      void signIn(name, password.value)
        .then(finish)
        .catch((failure: unknown) => {
          errorText = () => refusal(failure);
          form.dataset['status'] = failure instanceof AuthHttpError ? String(failure.status) : 'network';
          password.value = '';
          password.focus();
        })
        .finally(() => {
          busy = false;
          submit.disabled = false;
          relabel();
        });
    });
  });
  return asking;
}

/** Why a sign-in failed, in the current language. */
function refusal(error: unknown): string {
  if (error instanceof AuthHttpError) {
    const wait = error.retryAfter ?? 60;
    if (error.status === 401) return t('wrongCredentials');
    if (error.status === 423) return fill(t('accountLocked'), { n: Math.max(1, Math.ceil(wait / 60)) });
    if (error.status === 429) return fill(t('tooManyAttempts'), { n: wait });
    return `${t('signInFailed')} (${error.status}): ${error.detail}`;
  }
  return t('serverUnreachable');
}

/** Says that the account's role does not fit the page; resolves once the person signed out to switch. */
function wrongRole(gate: Gate, user: User): Promise<void> {
  return new Promise((resolve) => {
    const { root, lang } = overlay('wrong-role-page');
    const box = el('div', 'signin wrong-role');
    const heading = el('h2', 'signin-title');
    const top = el('div', 'signin-top');
    top.append(heading, lang);
    const who = el('p', 'wrong-role-who');
    const fits = el('p', 'wrong-role-for');
    const switchButton = button('primary switch-account', '', () => {
      switchButton.disabled = true;
      void signOut().finally(() => {
        stopLang();
        root.remove();
        delete document.body.dataset['signin'];
        resolve();
      });
    });
    const own = pageFor(user.role);
    const link = el('a', 'link own-page');
    if (own) link.href = own;
    link.hidden = own === null;
    box.append(top, who, fits, switchButton, link);
    root.append(box);
    document.body.dataset['signin'] = 'wrong-role';
    const relabel = () => {
      heading.textContent = `${gate.header.pageTitle} · ${t('wrongRole')}`;
      lang.textContent = t('langSwitch');
      who.textContent = `${t('yourRole')}: ${user.username} · ${roleLabel(user.role)}`;
      fits.textContent = `${t('pageIsFor')}: ${gate.roles.map(roleLabel).join(t('listSeparator'))}`;
      switchButton.textContent = t('switchAccount');
      link.textContent = t('goToOwnPage');
    };
    const stopLang = onLangChange(relabel);
    relabel();
  });
}
