// The Node.js peer of apicron's bench: croner schedules, the built-in fetch calls.
//
//   node peer.mjs BACKEND --mode spread --tasks 10000
//   node peer.mjs BACKEND --mode burst --tasks 10000 --at EPOCH
//   node peer.mjs BACKEND --mode capacity --tasks 2000
//
// Job i calls /node/<i> at second i mod 60 of every minute (spread), every job at the
// second of --at (burst), or every job every second (capacity), sending the time it meant
// to fire at as X-Apicron-Scheduled-Time, with a 5 s timeout, the way a team would write
// it: one Cron per job, the built-in fetch (256 connections). Prints {"event": "ready"} once
// every job is scheduled. Patterns name seconds only, so no time zone is given (croner with
// `timezone` set converts through Intl on every computation: slower to schedule, same times).
//
// croner does not hand a job its scheduled time (currentRun() is when the run began), so
// each job remembers its nextRun() and takes it as the time of the run that follows; croner
// schedules from the end of a run, so a run that starts late may skip occurrences, which
// the bench counts as missing.
import { Cron } from "croner";
import { Agent, setGlobalDispatcher } from "undici";

const [backend, ...rest] = process.argv.slice(2);
const option = (name, fallback) => {
  const at = rest.indexOf(`--${name}`);
  return at >= 0 ? rest[at + 1] : fallback;
};
const mode = option("mode", "spread");
const tasks = Number(option("tasks", "0"));
const at = Number(option("at", "0"));

// 256 connections, like apicron's backend pool and the Python peers' sessions. Node's
// default agent has no limit: 1,000 calls at once opened 1,000 connections here and none
// reached the backend within the 5 s timeout.
setGlobalDispatcher(new Agent({ connections: 256 }));

const stamp = (date) => date.toISOString().replace(/\.\d{3}Z$/, "Z");

function schedule(i, pattern, options) {
  let pending = null;
  const job = new Cron(pattern, options, () => {
    const scheduled = pending;
    pending = job.nextRun();
    if (scheduled === null) return;
    fetch(`${backend}/node/${i}`, {
      headers: { "X-Apicron-Scheduled-Time": stamp(scheduled) },
      signal: AbortSignal.timeout(5000),
    }).then((response) => response.arrayBuffer(), () => null).catch(() => null);
  });
  pending = job.nextRun();
  return job;
}

const jobs = [];
for (let i = 0; i < tasks; i++) {
  if (mode === "burst") {
    const second = new Date(at * 1000).getUTCSeconds();
    jobs.push(schedule(i, `${second} * * * * *`, { startAt: new Date(at * 1000) }));
  } else if (mode === "capacity") {
    jobs.push(schedule(i, "* * * * * *", {}));
  } else {
    jobs.push(schedule(i, `${i % 60} * * * * *`, {}));
  }
}
if (mode === "burst" && Date.now() > at * 1000) {
  console.log(JSON.stringify({ event: "late", message: "jobs were scheduled after the burst second" }));
} else {
  console.log(JSON.stringify({ event: "ready", jobs: jobs.length }));
}
