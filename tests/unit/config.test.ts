import { ConfigError, SECRET_ENV_NAMES, loadConfig, tabSignsIn } from '../../server/config';

const local = { STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true' };

describe('configuration', () => {
  it('runs locally on defaults with only a storage connection string', () => {
    const config = loadConfig(local);
    expect(config.port).toBe(3978);
    expect(config.graphBaseUrl).toBe('https://graph.microsoft.com');
    expect(config.production).toBe(false);
  });

  it('binds to loopback whenever unauthenticated local mode is on', () => {
    const config = loadConfig({ ...local, HOST: '0.0.0.0', LOCAL_DEV_UNAUTHENTICATED: 'true' });
    expect(config.host).toBe('127.0.0.1');
  });

  it('signs the tab in locally only when asked, and refuses the tab sign-in switch outside unauthenticated mode', () => {
    expect(tabSignsIn(loadConfig({ ...local, LOCAL_DEV_UNAUTHENTICATED: 'true' }))).toBe(false);
    expect(tabSignsIn(loadConfig({ ...local, LOCAL_DEV_UNAUTHENTICATED: 'true', LOCAL_DEV_TAB_SIGN_IN: 'true' }))).toBe(true);
    expect(tabSignsIn(loadConfig(local))).toBe(true);
    expect(() => loadConfig({ ...local, LOCAL_DEV_TAB_SIGN_IN: 'true' })).toThrow(/LOCAL_DEV_TAB_SIGN_IN: only with LOCAL_DEV_UNAUTHENTICATED=true/);
  });

  it('takes one local Teams host origin as an https origin, and refuses it in production', () => {
    expect(loadConfig({ ...local, LOCAL_DEV_TEAMS_HOST_ORIGIN: 'https://localhost:7104/' }).localDevTeamsHostOrigin).toBe('https://localhost:7104');
    expect(loadConfig(local).localDevTeamsHostOrigin).toBeUndefined();
    expect(() => loadConfig({ ...local, LOCAL_DEV_TEAMS_HOST_ORIGIN: 'http://localhost:7104' })).toThrow(/LOCAL_DEV_TEAMS_HOST_ORIGIN/);
    expect(() => loadConfig({ ...local, LOCAL_DEV_TEAMS_HOST_ORIGIN: 'https://localhost:7104/host' })).toThrow(/LOCAL_DEV_TEAMS_HOST_ORIGIN: must be an https origin/);
    expect(() => loadConfig({ ...local, NODE_ENV: 'production', LOCAL_DEV_TEAMS_HOST_ORIGIN: 'https://localhost:7104' })).toThrow(
      /LOCAL_DEV_TEAMS_HOST_ORIGIN: cannot be set when NODE_ENV=production/,
    );
  });

  it('refuses unauthenticated mode and missing settings in production, naming each variable', () => {
    const run = () => loadConfig({ ...local, NODE_ENV: 'production', LOCAL_DEV_UNAUTHENTICATED: 'true' });
    expect(run).toThrow(ConfigError);
    const message = (() => {
      try {
        run();
      } catch (e) {
        return (e as Error).message;
      }
      return '';
    })();
    for (const name of ['LOCAL_DEV_UNAUTHENTICATED', 'TENANT_ID', 'CLIENT_ID', 'CLIENT_SECRET', 'PUBLIC_URL', 'TELEMESSAGE_BASE_URL']) {
      expect(message).toContain(name);
    }
  });

  it('lets a worker run in production with only storage, Graph and the work queue, and refuses a bad queue name', () => {
    const worker = {
      STORAGE_ACCOUNT_NAME: 'acct1',
      NODE_ENV: 'production',
      TENANT_ID: 't',
      CLIENT_ID: 'c',
      GRAPH_CREDENTIAL: 'ManagedIdentityFederation',
      MANAGED_IDENTITY_CLIENT_ID: 'm',
      WORK_QUEUE_NAME: 'delivery-units',
    };
    const config = loadConfig(worker, 'worker');
    expect(config.workQueueName).toBe('delivery-units');
    expect(config.workerConcurrency).toBe(16);
    // The server needs its web settings; the worker does not.
    expect(() => loadConfig(worker)).toThrow(/PUBLIC_URL: required when NODE_ENV=production/);
    expect(() => loadConfig({ ...worker, WORK_QUEUE_NAME: '' }, 'worker')).toThrow(/WORK_QUEUE_NAME: required for a worker/);
    for (const bad of ['Delivery_Units', 'ab', 'units--x', '-units'])
      expect(() => loadConfig({ ...worker, WORK_QUEUE_NAME: bad }, 'worker')).toThrow(/WORK_QUEUE_NAME: must be an Azure Storage queue name/);
    expect(() => loadConfig({ ...local, STORAGE_QUEUE_ENDPOINT: 'https://q.example' })).toThrow(/STORAGE_QUEUE_ENDPOINT: only with STORAGE_ACCOUNT_NAME/);
  });

  it('says what is wrong with a bad value without echoing any secret', () => {
    const secret = 'DefaultEndpointsProtocol=https;AccountKey=c2VjcmV0LWtleQ==';
    let message = '';
    try {
      loadConfig({ STORAGE_CONNECTION_STRING: secret, STORAGE_ACCOUNT_NAME: 'acct1', PORT: 'eighty', CLIENT_SECRET: 'hunter2-secret', GRAPH_BASE_URL: 'ftp://x' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/PORT/);
    expect(message).toMatch(/GRAPH_BASE_URL/);
    expect(message).toMatch(/exactly one of STORAGE_CONNECTION_STRING and STORAGE_ACCOUNT_NAME/);
    expect(message).not.toContain('c2VjcmV0LWtleQ');
    expect(message).not.toContain('hunter2-secret');
  });

  it('signs in to Graph with a client secret unless told to use the managed identity, and asks for what the choice needs', () => {
    const app = { ...local, TENANT_ID: 't', CLIENT_ID: 'c' };
    expect(loadConfig({ ...app, CLIENT_SECRET: 's' }).graphCredential).toBe('ClientSecret');
    expect(() => loadConfig(app)).toThrow(/CLIENT_SECRET: required when GRAPH_CREDENTIAL=ClientSecret/);
    const federated = { ...app, GRAPH_CREDENTIAL: 'ManagedIdentityFederation' };
    expect(() => loadConfig(federated)).toThrow(/MANAGED_IDENTITY_CLIENT_ID: required when GRAPH_CREDENTIAL=ManagedIdentityFederation/);
    expect(loadConfig({ ...federated, MANAGED_IDENTITY_CLIENT_ID: 'mi' })).toMatchObject({ graphCredential: 'ManagedIdentityFederation', managedIdentityClientId: 'mi' });
    // A leftover secret is refused, and not echoed.
    let message = '';
    try {
      loadConfig({ ...federated, MANAGED_IDENTITY_CLIENT_ID: 'mi', CLIENT_SECRET: 'leftover-secret-value' });
    } catch (e) {
      message = (e as Error).message;
    }
    expect(message).toMatch(/CLIENT_SECRET: not used when GRAPH_CREDENTIAL=ManagedIdentityFederation/);
    expect(message).not.toContain('leftover-secret-value');
    expect(() => loadConfig({ ...app, GRAPH_CREDENTIAL: 'Certificate' })).toThrow(/GRAPH_CREDENTIAL/);
  });

  it('points the managed-identity storage client at given endpoints, and only then', () => {
    const byName = { STORAGE_ACCOUNT_NAME: 'archiverstore', STORAGE_TABLE_ENDPOINT: 'https://archiverstore.table.core.usgovcloudapi.net' };
    expect(loadConfig(byName).storageTableEndpoint).toBe('https://archiverstore.table.core.usgovcloudapi.net');
    expect(() => loadConfig({ ...local, STORAGE_BLOB_ENDPOINT: 'https://x.blob.core.windows.net' })).toThrow(/STORAGE_BLOB_ENDPOINT: only with STORAGE_ACCOUNT_NAME/);
    expect(() => loadConfig({ ...byName, STORAGE_TABLE_ENDPOINT: 'http://127.0.0.1:10002' })).toThrow(/STORAGE_TABLE_ENDPOINT/);
  });

  it('takes the SFTP landing storage by connection string or account name, never both, with a valid container name', () => {
    expect(loadConfig(local).sftpStorageConnectionString).toBeUndefined();
    expect(loadConfig(local).sftpContainer).toBe('telemessage');
    expect(loadConfig({ ...local, SFTP_STORAGE_ACCOUNT_NAME: 'archiversftp', SFTP_CONTAINER: 'tm-drop' })).toMatchObject({ sftpStorageAccountName: 'archiversftp', sftpContainer: 'tm-drop' });
    expect(() => loadConfig({ ...local, SFTP_STORAGE_CONNECTION_STRING: 'UseDevelopmentStorage=true', SFTP_STORAGE_ACCOUNT_NAME: 'archiversftp' })).toThrow(
      /SFTP_STORAGE_CONNECTION_STRING: set at most one/,
    );
    expect(() => loadConfig({ ...local, SFTP_CONTAINER: 'Bad_Name' })).toThrow(/SFTP_CONTAINER: must be a container name/);
    expect(SECRET_ENV_NAMES).toContain('SFTP_STORAGE_CONNECTION_STRING');
  });

  it('marks the connection string and client secret as secrets', () => {
    expect(SECRET_ENV_NAMES).toEqual(expect.arrayContaining(['STORAGE_CONNECTION_STRING', 'CLIENT_SECRET']));
  });
});
