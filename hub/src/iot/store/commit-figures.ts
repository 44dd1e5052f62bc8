// The write path's figures for /metrics, kept the same way by the SQLite and
// the PostgreSQL group-commit writers.
import type { StoreStats } from './types.js';

/** Upper bounds (ms) of the commit latency histogram. */
export const LATENCY_BOUNDS = [0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000];

/** Commits, jobs, failures and the commit latency histogram of one writer. */
export class CommitFigures {
  commits = 0;
  jobs = 0;
  failedJobs = 0;
  lastCommitMs = 0;
  commitMsSum = 0;
  private readonly latency = LATENCY_BOUNDS.map(() => 0);

  /** Records one commit of `jobs` jobs that took `elapsedMs`. */
  committed(jobs: number, elapsedMs: number): void {
    this.commits++;
    this.jobs += jobs;
    this.lastCommitMs = elapsedMs;
    this.commitMsSum += elapsedMs;
    const bucket = LATENCY_BOUNDS.findIndex((bound) => elapsedMs <= bound);
    if (bucket !== -1) this.latency[bucket]!++;
  }

  /** The figures with the writer's current queue depth. */
  stats(queueDepth: number): StoreStats {
    let cumulative = 0;
    const commitMsBuckets = LATENCY_BOUNDS.map((bound, i): [number, number] => [bound, (cumulative += this.latency[i]!)]);
    const { commits, jobs, failedJobs, lastCommitMs, commitMsSum } = this;
    return { commits, jobs, failedJobs, lastCommitMs, commitMsSum, queueDepth, commitMsBuckets };
  }
}
