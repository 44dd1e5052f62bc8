// The shell: sign-in gate, navigation, the live connection and the pages.
import { useEffect, useRef, useState } from 'preact/hooks';
import { can, me, sessionAlive, setUnauthorizedHandler, signOut } from './api';
import { RegisterDialog } from './components/register-dialog';
import { useLiveStatus } from './hooks';
import { live } from './live';
import { AlarmsPage } from './pages/alarms';
import { DevicePage } from './pages/device';
import { DevicesPage } from './pages/devices';
import { HubPage } from './pages/hub';
import { LiveStreamPage } from './pages/live-stream';
import { OverviewPage } from './pages/overview';
import { RegistryPage } from './pages/registry';
import { RulesPage } from './pages/rules';
import { SignInPage } from './pages/sign-in';
import { linkClick, navigate, usePath } from './router';

const NAV = [
  { href: '/', label: 'Overview' },
  { href: '/devices', label: 'Devices' },
  { href: '/alarms', label: 'Alarms' },
  { href: '/rules', label: 'Rules' },
  { href: '/registry', label: 'Sites & classes' },
  { href: '/live', label: 'Live stream' },
  { href: '/hub', label: 'Hub' },
];

export function App() {
  const [auth, setAuth] = useState<'checking' | 'in' | 'out'>('checking');
  useEffect(() => {
    setUnauthorizedHandler(() => setAuth('out'));
    sessionAlive().then(
      () => setAuth('in'),
      () => setAuth('out'),
    );
  }, []);
  useEffect(() => {
    if (auth !== 'in') return;
    live.start(() => setAuth('out'));
    return () => live.stop();
  }, [auth]);

  if (auth === 'checking') return <p class="center muted">Loading…</p>;
  // After a sign-in the session is asked who it is (role and sites), so that the console offers only what the person may do.
  if (auth === 'out') return <SignInPage onSignedIn={() => sessionAlive().then(() => setAuth('in'), () => setAuth('out'))} />;
  return <Shell onSignOut={() => signOut().finally(() => setAuth('out'))} />;
}

function Shell({ onSignOut }: { onSignOut: () => void }) {
  const path = usePath();
  const connected = useLiveStatus();
  const [registering, setRegistering] = useState(false);
  const section = '/' + (path.split('/')[1] ?? '');
  let page;
  if (path === '/') page = <OverviewPage />;
  else if (path === '/devices') page = <DevicesPage />;
  else if (path.startsWith('/devices/')) page = <DevicePage deviceId={decodeURIComponent(path.slice('/devices/'.length))} />;
  else if (path === '/live') page = <LiveStreamPage />;
  else if (path === '/hub') page = <HubPage />;
  else if (path === '/alarms') page = <AlarmsPage />;
  else if (path === '/rules') page = <RulesPage />;
  else if (path === '/registry') page = <RegistryPage />;
  else page = <p>No such page. <a href="/" onClick={linkClick}>Overview</a></p>;
  // After an in-app navigation, focus moves to the new page (as a page load
  // would put it at the top); not on the first render, where nothing moved and
  // a focused <main> would be framed by :focus-visible.
  const firstPath = useRef(true);
  useEffect(() => {
    if (firstPath.current) {
      firstPath.current = false;
      return;
    }
    document.getElementById('main')?.focus({ preventScroll: true });
  }, [path]);

  return (
    <div class="shell">
      <a class="skip" href="#main">Skip to content</a>
      <header class="top">
        <a class="brand" href="/" onClick={linkClick}>sitehub</a>
        <nav aria-label="Main">
          {NAV.map((n) => (
            <a href={n.href} onClick={linkClick} aria-current={section === n.href || (n.href === '/devices' && section === '/devices') ? 'page' : undefined}>
              {n.label}
            </a>
          ))}
        </nav>
        <div class="actions">
          <span class={`dot ${connected ? 'on' : 'off'}`} role="status" aria-label={connected ? 'live connection up' : 'live connection down'} title={connected ? 'live' : 'reconnecting'} />
          <span class="muted" data-testid="signed-in-as">{me.name} ({me.role})</span>
          {can('admin') && <button type="button" onClick={() => setRegistering(true)}>Register device</button>}
          <button type="button" class="secondary" onClick={onSignOut}>Sign out</button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>{page}</main>
      {registering && <RegisterDialog onClose={(id) => { setRegistering(false); if (id) navigate(`/devices/${encodeURIComponent(id)}`); }} />}
    </div>
  );
}
