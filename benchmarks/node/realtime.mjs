// The Node side of benchmarks/realtime_latency.py: @directus/sdk's realtime client subscribed
// to `create` on one collection, and a plain-HTTP writer (fetch) in the same process, so the
// write's send time and the event's arrival time come from one clock (process.hrtime, the
// kernel's CLOCK_MONOTONIC, as Python's time.perf_counter on Linux).
// JSON lines on stdin: {"op": "setup"|"run"|"quit", ...}; answers on stdout, as worker.mjs.
// Copied next to its node_modules in benchmarks/.peers/node.
import { createInterface } from 'node:readline';
import { createDirectus, realtime, staticToken } from '@directus/sdk';

const now = () => Number(process.hrtime.bigint()) / 1e9;

let client = null;
let target = null; // {url, token, collection}
// Item number -> when the SDK's iterator handed its create event to us; every number ever seen
// (a second event for one is a duplicate); who waits for which number.
const arrived = new Map();
const seen = new Set();
const waiters = new Map();
const counts = { duplicates: 0, other: 0 };
let consumerError = null;

function record(rows, at) {
	for (const row of Array.isArray(rows) ? rows : [rows]) {
		const n = row.n;
		if (seen.has(n)) {
			counts.duplicates += 1;
			continue;
		}
		seen.add(n);
		arrived.set(n, at);
		const wake = waiters.get(n);
		if (wake) {
			waiters.delete(n);
			wake();
		}
	}
}

// The consumer: what a user of the SDK writes, `for await (const message of subscription)`.
async function consume(subscription) {
	try {
		for await (const message of subscription) {
			const at = now();
			if (message.event === 'create') record(message.data, at);
			else counts.other += 1;
		}
	} catch (error) {
		consumerError = error;
		for (const wake of waiters.values()) wake();
	}
}

function arrival(n, timeoutMs) {
	if (arrived.has(n) || consumerError) return Promise.resolve();
	return new Promise((resolve, reject) => {
		const timer = setTimeout(() => {
			waiters.delete(n);
			reject(new Error(`no create event for n=${n} within ${timeoutMs} ms`));
		}, timeoutMs);
		waiters.set(n, () => {
			clearTimeout(timer);
			resolve();
		});
	});
}

function takeArrival(n) {
	if (consumerError) throw consumerError;
	const at = arrived.get(n);
	arrived.delete(n);
	return at;
}

// The writer: one plain POST /items/{collection} (fetch keeps the connection alive), the body
// read to the end, as the Python workers do with their own plain HTTP clients.
async function write(n) {
	const response = await fetch(`${target.url}/items/${target.collection}`, {
		method: 'POST',
		headers: { Authorization: `Bearer ${target.token}`, 'Content-Type': 'application/json' },
		body: JSON.stringify({ n }),
	});
	const body = await response.text();
	if (!response.ok) throw new Error(`POST answered ${response.status}: ${body.slice(0, 300)}`);
}

async function sequential(start, count, timeoutMs) {
	const latency = [];
	const post = [];
	for (let n = start; n < start + count; n++) {
		const sent = now();
		await write(n);
		const answered = now();
		await arrival(n, timeoutMs);
		latency.push(takeArrival(n) - sent);
		post.push(answered - sent);
	}
	return { latency, post };
}

async function burst(start, count, timeoutMs) {
	const sent = [];
	const post = [];
	for (let n = start; n < start + count; n++) {
		const began = now();
		await write(n);
		post.push(now() - began);
		sent.push(began);
	}
	const latency = [];
	for (let i = 0; i < count; i++) {
		await arrival(start + i, timeoutMs);
		latency.push(takeArrival(start + i) - sent[i]);
	}
	return { latency, post };
}

async function handle(message) {
	if (message.op === 'setup') {
		target = { url: message.url, token: message.token, collection: message.collection };
		client = createDirectus(message.url)
			.with(staticToken(message.token))
			.with(realtime({ authMode: 'handshake' }));
		await client.connect();
		const { subscription } = await client.subscribe(message.collection, { event: 'create' });
		const first = await subscription.next();
		if (first.done || first.value.event !== 'init') {
			return { error: `expected the init event, got ${JSON.stringify(first.value)}` };
		}
		consume(subscription);
		return { ok: true };
	}
	if (message.op === 'quit') {
		client?.disconnect();
		return { ok: true };
	}
	if (message.op !== 'run') return { error: `unknown op ${message.op}` };
	const run = message.mode === 'burst' ? burst : sequential;
	const before = { ...counts };
	const cpu0 = process.cpuUsage();
	const result = await run(message.start, message.count, message.timeout * 1000);
	const cpu = process.cpuUsage(cpu0);
	return {
		...result,
		cpu: (cpu.user + cpu.system) / 1e6,
		duplicates: counts.duplicates - before.duplicates,
		other: counts.other - before.other,
	};
}

const lines = createInterface({ input: process.stdin });
process.stdout.write(JSON.stringify({ ready: 'node' }) + '\n');
for await (const line of lines) {
	const message = JSON.parse(line);
	let reply;
	try {
		reply = await handle(message);
	} catch (error) {
		reply = { error: String(error?.stack ?? (typeof error === 'object' ? JSON.stringify(error) : error)) };
	}
	process.stdout.write(JSON.stringify(reply) + '\n');
	if (message.op === 'quit') {
		lines.close();
		process.stdout.end(() => process.exit(0));
		break;
	}
}
