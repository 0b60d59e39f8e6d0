/**
 * @module solve/worker-thread
 * The program each thread of the solve pool runs (`new Worker(<this file>)`, never imported):
 * it answers the calls its pool posts until the pool ends it.
 */
import { parentPort } from 'node:worker_threads';
import { serveCalls } from './worker-task.js';

if (parentPort !== null) serveCalls(parentPort);
