import { bypassesProxy, coordinatorRoute, parseProxySettings, ProxyConfigError } from './proxy-route';

describe('proxy settings', () => {
  it('reads lower-case variables first, as curl does', () => {
    const settings = parseProxySettings({
      https_proxy: 'http://lower.example:3128',
      HTTPS_PROXY: 'http://upper.example:3128',
      HTTP_PROXY: 'http://plain.example:8080',
    });
    expect(settings.httpsProxy?.host).toBe('lower.example:3128');
    expect(settings.httpProxy?.host).toBe('plain.example:8080');
    expect(settings.noProxy).toBe('');
  });

  it.each([
    [
      'HTTPS_PROXY',
      'http://proxy.example:port',
      'HTTPS_PROXY: "http://proxy.example:port" is not a proxy URL',
    ],
    ['HTTP_PROXY', 'socks5://10.0.0.1:1080', 'HTTP_PROXY: proxy socks5://10.0.0.1:1080 is not supported'],
    ['HTTPS_PROXY', 'http://proxy.example:3128/some/path', 'is not supported; expected http://host:port'],
    ['FEDSEG_PROXY', 'not a url', 'FEDSEG_PROXY: "not a url" is not a proxy URL'],
  ])('refuses %s=%s naming the variable', (name, value, message) => {
    expect(() => parseProxySettings({ [name]: value })).toThrow(ProxyConfigError);
    expect(() => parseProxySettings({ [name]: value })).toThrow(message);
  });

  it('never prints the password of a malformed proxy URL', () => {
    expect(() => parseProxySettings({ HTTPS_PROXY: 'http://alice:s3cret@proxy:port' })).toThrow(
      '"http://***@proxy:port" is not a proxy URL',
    );
  });
});

describe('NO_PROXY', () => {
  const url = (u: string) => new URL(u);
  it.each([
    ['https://fed.example.org', 'example.org', true],
    ['https://fed.example.org', '.example.org', true],
    ['https://fed.example.org', '*.example.org', true],
    ['https://example.org', '.example.org', true],
    ['https://notexample.org', 'example.org', false],
    ['https://fed.example.org:4800', 'fed.example.org:4800', true],
    ['https://fed.example.org:4800', 'fed.example.org:443', false],
    ['https://fed.example.org', 'fed.example.org:443', true],
    ['https://fed.example.org', '*', true],
    ['https://fed.example.org', 'other.org, , fed.example.org', true],
    ['https://fed.example.org', '', false],
    ['http://127.0.0.1:4800', '', true],
    ['http://localhost:4800', '', true],
    ['http://[::1]:4800', '', true],
  ])('%s with NO_PROXY=%j: direct %s', (target, noProxy, direct) => {
    expect(bypassesProxy(url(target), noProxy)).toBe(direct);
  });
});

describe('coordinatorRoute', () => {
  const settings = parseProxySettings({
    HTTPS_PROXY: 'http://bob:pa55@proxy.example:3128',
    HTTP_PROXY: 'http://plain.example:8080',
    NO_PROXY: 'internal.example',
  });

  it('picks the proxy for the scheme and hides its password', () => {
    const route = coordinatorRoute('https://fed.example.org/', settings);
    expect(route.base).toBe('https://fed.example.org');
    expect(route.agent?.proxy.host).toBe('proxy.example:3128');
    expect(route.description).toBe(
      'through proxy http://bob:***@proxy.example:3128 (HTTPS_PROXY), CONNECT tunnel',
    );
    expect(coordinatorRoute('http://fed.example.org', settings).agent?.proxy.host).toBe('plain.example:8080');
  });

  it('goes direct for NO_PROXY hosts and without a proxy', () => {
    expect(coordinatorRoute('https://fed.internal.example', settings).agent).toBeUndefined();
    expect(coordinatorRoute('https://fed.example.org', parseProxySettings({})).description).toBe(
      'direct (no proxy set)',
    );
  });

  it('lets --proxy override the variables', () => {
    const route = coordinatorRoute(
      'https://fed.example.org',
      parseProxySettings({}, 'http://flag.example:1'),
    );
    expect(route.description).toBe(
      'through proxy http://flag.example:1 (--proxy/FEDSEG_PROXY), CONNECT tunnel',
    );
  });
});
