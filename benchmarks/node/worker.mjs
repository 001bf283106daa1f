// The Node side of the benchmarks: the official @directus/sdk, driven like the Python workers.
// JSON lines on stdin: {"op": "setup"|"run"|"quit", ...} ("variant" is ignored); answers on stdout. A run times one
// block of sequential awaited calls and reports wall time and this process's own CPU time
// (process.cpuUsage, user + system). Copied next to its node_modules in benchmarks/.peers/node.
import { readFileSync, writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { aggregate, createDirectus, readItem, readItems, rest, staticToken } from '@directus/sdk';

let client = null;

// Peak RSS of the timed section: reset the kernel's high-water mark (Linux), read it after.
const statusKb = (field) => {
	try {
		const line = readFileSync('/proc/self/status', 'utf8').split('\n').find((l) => l.startsWith(field + ':'));
		return line ? Number(line.split(/\s+/)[1]) : null;
	} catch {
		return null;
	}
};
const resetPeak = () => {
	try {
		writeFileSync('/proc/self/clear_refs', '5');
	} catch {
		return process.resourceUsage().maxRSS;
	}
	return statusKb('VmRSS') ?? process.resourceUsage().maxRSS;
};
const peakKb = () => statusKb('VmHWM') ?? process.resourceUsage().maxRSS;

const listQuery = (args) => ({
	filter: args.list_filter,
	fields: args.list_fields,
	sort: args.list_sort,
	limit: args.list_limit,
});

const ops = {
	async warm(calls, args) {
		return (await client.request(readItems(args.collection, { limit: 1 }))).length;
	},
	async read_one(calls, args) {
		let total = 0;
		for (let i = 0; i < calls; i++) {
			total += (await client.request(readItem(args.collection, args.ids[i % args.ids.length]))).id;
		}
		return total;
	},
	async list_100(calls, args) {
		let n = 0;
		let sig = 0;
		for (let i = 0; i < calls; i++) {
			const rows = await client.request(readItems(args.collection, listQuery(args)));
			n += rows.length;
			sig = rows.reduce((sum, row) => sum + row.id, 0);
		}
		return { n, sig };
	},
	async count(calls, args) {
		let total = 0;
		for (let i = 0; i < calls; i++) {
			const rows = await client.request(
				aggregate(args.collection, { aggregate: { count: '*' }, query: { filter: args.count_filter } }),
			);
			total += Number(rows[0].count);
		}
		return total;
	},
	async fetch_set(calls, args) {
		let total = 0;
		for (let i = 0; i < calls; i++) {
			total += (await client.request(readItems(args.collection, { filter: args.count_filter, limit: -1 }))).length;
		}
		return total;
	},
};

const unsupported = {
	iterate: 'no iterator (no paging API)',
	create_many: 'not measured: read workloads only',
	create_single: 'not measured: read workloads only',
	upload: 'not measured: read workloads only',
	download: 'not measured: JSON read workloads only',
};

async function handle(message) {
	if (message.op === 'setup') {
		client = createDirectus(message.url).with(staticToken(message.token)).with(rest());
		return { ok: true };
	}
	if (message.op === 'quit') return { ok: true };
	if (message.op !== 'run') return { error: `unknown op ${message.op}` };
	const op = ops[message.workload];
	if (!op) return { unsupported: unsupported[message.workload] ?? 'not supported' };
	const rssBefore = resetPeak();
	const cpu0 = process.cpuUsage();
	const wall0 = process.hrtime.bigint();
	const check = await op(message.calls, message.args);
	const wall = Number(process.hrtime.bigint() - wall0) / 1e9;
	const cpu = process.cpuUsage(cpu0);
	return {
		wall,
		cpu: (cpu.user + cpu.system) / 1e6,
		rss_before_kb: rssBefore,
		rss_peak_kb: peakKb(),
		check,
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
		reply = { error: String(error?.stack ?? error) + (error?.errors ? ' ' + JSON.stringify(error.errors) : '') };
	}
	process.stdout.write(JSON.stringify(reply) + '\n');
	if (message.op === 'quit') {
		lines.close();
		process.stdout.end(() => process.exit(0));
		break;
	}
}
