import { useEffect, useRef, useState } from 'react';
import { io, type Socket } from 'socket.io-client';
import {
  DASHBOARD_NAMESPACE,
  DashboardEvents,
  RoundEvent,
  type DashboardClientToServer,
  type DashboardServerToClient,
} from '@fedseg/protocol/web';

export type LiveState = { state: 'connecting' } | { state: 'live' } | { state: 'offline'; reason: string };

type Listener = (event: RoundEvent) => void;

/**
 * One /dashboard socket per signed-in page, authenticated by the token in its handshake `auth`. Pages
 * subscribe to its round events; every event is parsed with the protocol's RoundEvent schema first.
 */
export function useLive(token: string): { live: LiveState; subscribe: (l: Listener) => () => void } {
  const [live, setLive] = useState<LiveState>({ state: 'connecting' });
  const listeners = useRef(new Set<Listener>());
  useEffect(() => {
    const socket: Socket<DashboardServerToClient, DashboardClientToServer> = io(DASHBOARD_NAMESPACE, {
      auth: { token },
      transports: ['websocket'],
    });
    socket.on('connect', () => setLive({ state: 'live' }));
    socket.on('disconnect', (reason) => setLive({ state: 'offline', reason }));
    socket.on('connect_error', (err) => setLive({ state: 'offline', reason: err.message }));
    socket.on(DashboardEvents.roundEvent, (raw: unknown) => {
      const event = RoundEvent.safeParse(raw);
      if (!event.success) return;
      for (const l of listeners.current) l(event.data);
    });
    return () => {
      socket.disconnect();
    };
  }, [token]);
  const subscribe = useRef((l: Listener) => {
    listeners.current.add(l);
    return () => {
      listeners.current.delete(l);
    };
  }).current;
  return { live, subscribe };
}
