// A CommonJS app that knows nothing of telemetry. Run it as
//   node --import @tuist-telemetry/core/register cjs/app.cjs
// and its PostgreSQL pools (its own and the one pg-boss creates inside itself), its fetch calls, its S3 commands
// and its Express and Fastify servers are measured on http://localhost:9091/metrics.
// Settings: DATABASE_URL, S3_ENDPOINT (an S3-compatible store; the demo credentials of s3rver by default).
const pg = require('pg');
const PgBoss = require('pg-boss');
const {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} = require('@aws-sdk/client-s3');
const express = require('express');
const Fastify = require('fastify');

async function main() {
  const { DATABASE_URL, S3_ENDPOINT, S3_BUCKET = 'zero-code-cjs' } = process.env;

  // The app's own pool. Idle connections close after 100 ms, so the pool also opens and closes connections.
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2, idleTimeoutMillis: 100 });
  await Promise.all([pool.query('select 1'), pool.query('select 2'), pool.query('select 3')]);
  await pool.query('select * from a_table_that_does_not_exist').catch(() => {});

  // A pool the app does not own: pg-boss creates it inside itself.
  const boss = new PgBoss({ connectionString: DATABASE_URL, schema: 'zero_code_cjs', max: 2 });
  boss.on('error', (err) => console.error('pg-boss', err));
  await boss.start();
  await boss.createQueue('emails');
  await boss.send('emails', { to: 'someone@example.com' });

  const s3 = new S3Client({
    endpoint: S3_ENDPOINT,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  await s3.send(new CreateBucketCommand({ Bucket: S3_BUCKET }));
  await s3.send(new PutObjectCommand({ Bucket: S3_BUCKET, Key: 'a.txt', Body: 'hello' }));
  await s3.send(new HeadObjectCommand({ Bucket: S3_BUCKET, Key: 'a.txt' }));
  await (await s3.send(new GetObjectCommand({ Bucket: S3_BUCKET, Key: 'a.txt' }))).Body.transformToString();
  await s3.send(new HeadObjectCommand({ Bucket: S3_BUCKET, Key: 'missing.txt' })).catch(() => {});
  await s3.send(new ListObjectsV2Command({ Bucket: S3_BUCKET }));

  const app = express();
  app.get('/projects/:handle', (req, res) => res.send(`project ${req.params.handle}`));
  const expressServer = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const fastify = Fastify();
  fastify.get('/builds/:id', async (request) => `build ${request.params.id}`);
  await fastify.listen({ port: 0, host: '127.0.0.1' });

  const expressUrl = `http://127.0.0.1:${expressServer.address().port}`;
  const fastifyUrl = `http://127.0.0.1:${fastify.server.address().port}`;
  for (const url of [
    `${expressUrl}/projects/tuist`,
    `${expressUrl}/projects/other`,
    `${expressUrl}/no/such/page`,
    `${fastifyUrl}/builds/1`,
    `${fastifyUrl}/builds/2`,
  ]) {
    await (await fetch(url)).text();
  }

  await new Promise((r) => setTimeout(r, 300)); // idle connections close
  console.log('READY ' + JSON.stringify({ expressUrl, fastifyUrl }));

  process.on('SIGTERM', async () => {
    await boss.stop({ graceful: false, wait: false });
    await pool.end();
    expressServer.close();
    await fastify.close();
    process.exit(0);
  });
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
