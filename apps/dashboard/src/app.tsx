import { useEffect, useMemo, useState } from 'react';
import { WhoAmI } from '@fedseg/protocol/web';
import { createApi, type Api } from './api';
import { CreateStudyPage } from './create-study/create-study-page';
import { useLive } from './live';
import { ModelsPage } from './models/models-page';
import { SignIn } from './pages/sign-in';
import { SitesPage } from './pages/sites-page';
import { StudiesPage } from './pages/studies-page';
import { StudyPage } from './pages/study-page';
import { forgetToken, storeToken, storedToken } from './session';
import { ErrorView, Loading } from './states';
import { useResource } from './use-resource';

type Route =
  | { page: 'studies' }
  | { page: 'new-study' }
  | { page: 'study'; id: string }
  | { page: 'sites' }
  | { page: 'models'; id: string | null };

function routeOf(hash: string): Route {
  const study = /^#\/studies\/([0-9a-f-]{36})$/.exec(hash);
  if (study) return { page: 'study', id: study[1]! };
  if (hash === '#/sites') return { page: 'sites' };
  const models = /^#\/models(?:\/([0-9a-f-]{36}))?$/.exec(hash);
  if (models) return { page: 'models', id: models[1] ?? null };
  if (hash === '#/studies/new') return { page: 'new-study' };
  return { page: 'studies' };
}

function useHashRoute(): Route {
  const [route, setRoute] = useState(() => routeOf(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(routeOf(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  return route;
}

/** Signed out: the sign-in page only. Signed in: the pages, one live socket, sign-out. */
export function App() {
  const [token, setToken] = useState(storedToken);
  const signOut = () => {
    forgetToken();
    location.hash = '#/studies'; // the next user starts from the studies list, whatever their role
    setToken(null);
  };
  if (!token)
    return (
      <SignIn
        onSignedIn={(t) => {
          storeToken(t);
          setToken(t);
        }}
      />
    );
  return <SignedIn token={token} onSignOut={signOut} />;
}

function SignedIn({ token, onSignOut }: { token: string; onSignOut: () => void }) {
  const api: Api = useMemo(() => createApi(token, onSignOut), [token]);
  const [me] = useResource(() => api.get('/whoami', WhoAmI), [api]);
  const live = useLive(token);
  const route = useHashRoute();
  return (
    <div className="shell">
      <header>
        <h1>
          <a href="#/studies">fedseg</a>
        </h1>
        <nav aria-label="Main">
          <a
            href="#/studies"
            aria-current={route.page !== 'sites' && route.page !== 'models' ? 'page' : undefined}
          >
            Studies
          </a>
          {me.state === 'ready' && me.data.role !== 'site_admin' && (
            <a href="#/sites" aria-current={route.page === 'sites' ? 'page' : undefined}>
              Sites
            </a>
          )}
          {me.state === 'ready' && me.data.role !== 'site_admin' && (
            <a href="#/models" aria-current={route.page === 'models' ? 'page' : undefined}>
              Models
            </a>
          )}
        </nav>
        <span
          className={`live live-${live.live.state}`}
          title={live.live.state === 'offline' ? live.live.reason : ''}
        >
          {live.live.state === 'live'
            ? '● live'
            : live.live.state === 'connecting'
              ? '○ connecting'
              : '○ offline'}
        </span>
        {me.state === 'ready' && (
          <span className="me">
            {me.data.name} ({me.data.role})
          </span>
        )}
        <button type="button" onClick={onSignOut}>
          Sign out
        </button>
      </header>
      <main>
        {me.state === 'loading' && <Loading what="your account" />}
        {me.state === 'error' && <ErrorView message={me.message} />}
        {me.state === 'ready' && <Page route={route} api={api} me={me.data} live={live} />}
      </main>
    </div>
  );
}

function Page({
  route,
  api,
  me,
  live,
}: {
  route: Route;
  api: Api;
  me: WhoAmI;
  live: ReturnType<typeof useLive>;
}) {
  switch (route.page) {
    case 'study':
      return <StudyPage api={api} id={route.id} me={me} live={live} />;
    case 'new-study':
      // A site-admin may not create studies (policy study.create): the list, as for any unknown page.
      if (me.role === 'site_admin') return <StudiesPage api={api} me={me} live={live} />;
      return <CreateStudyPage api={api} />;
    case 'models':
      // A site-admin may not download models (policy study.model).
      if (me.role === 'site_admin') return <StudiesPage api={api} me={me} live={live} />;
      return <ModelsPage api={api} studyId={route.id} live={live} />;
    case 'sites':
      // A site-admin may not list sites (policy site.list); it sees its own site's figures in each study.
      if (me.role === 'site_admin') return <StudiesPage api={api} me={me} live={live} />;
      return <SitesPage api={api} me={me} live={live} />;
    default:
      return <StudiesPage api={api} me={me} live={live} />;
  }
}
