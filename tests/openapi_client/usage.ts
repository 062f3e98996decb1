// A program a TypeScript user of apicron would write against the client generated from
// /openapi.json (into ./gen by tests/test_openapi_client.py): it must compile with strict
// tsc, using the operations by their operationId and the request and answer types.
import { createClient } from './gen/client';
import {
  createApi,
  createApiGroup,
  createApp,
  createTask,
  getExecution,
  listTaskExecutions,
  previewCron,
  runTask,
  startTask,
  updateTask,
} from './gen/sdk.gen';
import type { Execution, Preview, TaskCreate, TaskUpdate } from './gen/types.gen';

export async function scheduleNightlySync(baseUrl: string, token: string): Promise<Execution> {
  const client = createClient({ baseUrl, headers: { Authorization: `Bearer ${token}` } });
  const app = await createApp({ client, body: { name: 'billing' }, throwOnError: true });
  const group = await createApiGroup({
    client, body: { name: 'billing_api', app_id: app.data.id }, throwOnError: true,
  });
  const api = await createApi({
    client, throwOnError: true,
    body: {
      group_id: group.data.id, name: 'sync_invoices', method: 'POST', path: '/billing/sync',
      backend_url: 'https://billing.example.com/sync', publish: true,
    },
  });
  const spec: TaskCreate = {
    name: 'nightly_sync', app_id: app.data.id, api_id: api.data.id, trigger_type: 'CRON',
    cron_expression: '0 30 2 ? * MON-FRI', timezone: 'Europe/Berlin', max_retries: 2,
    request: { headers: [{ name: 'X-Tenant', value: 'acme' }], query: [], body: null },
  };
  const task = await createTask({ client, body: spec, throwOnError: true });
  const change: TaskUpdate = { max_retries: 3, end_time: null };
  await updateTask({ client, path: { task_id: task.data.id }, body: change, throwOnError: true });
  await startTask({ client, path: { task_id: task.data.id }, throwOnError: true });
  const queued = await runTask({ client, path: { task_id: task.data.id }, throwOnError: true });
  const page = await listTaskExecutions({
    client, path: { task_id: task.data.id }, query: { status: 'FAILED', limit: 5 },
    throwOnError: true,
  });
  const total: number = page.data.total;
  const preview: Preview = (await previewCron({
    client, body: { cron_expression: '0 0 12 ? * 6#3', count: 3 }, throwOnError: true,
  })).data;
  const first: string | undefined = preview.next_fire_times[0];
  void total;
  void first;
  return (await getExecution({
    client, path: { execution_id: queued.data.id }, throwOnError: true,
  })).data;
}
