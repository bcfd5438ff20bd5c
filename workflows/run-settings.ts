/**
 * The settings a chain of runs keeps (`contract/run-settings.ts`): fixed by its first run, read
 * from the handover by every continued run.
 */
import { patched } from '@temporalio/workflow';
import { LEGACY_RUN_SETTINGS, RUN_SETTINGS_VERSIONS, type RunSettings } from '../contract/run-settings.js';

/**
 * The settings a first run starts with: the newest version whose gate it passes. Called once, on
 * the first run's first task, before any command: a new run passes the newest gate and records
 * its marker; the replay of a run recorded before a version existed finds no marker of it and
 * reads the settings it ran with (the legacy ones when it passes no gate).
 */
export function firstRunSettings(): RunSettings {
  for (let index = RUN_SETTINGS_VERSIONS.length - 1; index >= 0; index--) {
    const version = RUN_SETTINGS_VERSIONS[index];
    if (version && patched(version.patchId)) return version.settings;
  }
  return LEGACY_RUN_SETTINGS;
}
