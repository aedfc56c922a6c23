/**
 * The setup's steps, as Microsoft's connector has them (terms, TeleMessage sign-in, user mapping,
 * admin consent; then the schedule, a review and finish). What is done is read from the
 * connector's own settings, so the page resumes where the admin left and the API refuses to
 * finish a setup with a step still to do.
 */
export const SETUP_STEPS = [
  { id: 'terms', label: 'Terms of use' },
  { id: 'telemessage', label: 'TeleMessage sign-in' },
  { id: 'mapping', label: 'User mapping' },
  { id: 'consent', label: 'Admin consent' },
  { id: 'schedule', label: 'Schedule' },
  { id: 'review', label: 'Review' },
  { id: 'finish', label: 'Finish' },
] as const;
export type SetupStepId = (typeof SETUP_STEPS)[number]['id'];

/** The settings that record each step. */
export interface SetupState {
  termsAcceptedAt?: string;
  telemessageConfigured: boolean;
  mappingConfirmedAt?: string;
  consentedAt?: string;
  /** Saved with the schedule step. */
  scheduleTimeZone?: string;
  setupCompletedAt?: string;
}

export function stepDone(state: SetupState, step: SetupStepId): boolean {
  switch (step) {
    case 'terms':
      return Boolean(state.termsAcceptedAt);
    case 'telemessage':
      return state.telemessageConfigured;
    case 'mapping':
      return Boolean(state.mappingConfirmedAt);
    case 'consent':
      return Boolean(state.consentedAt);
    case 'schedule':
      return Boolean(state.scheduleTimeZone);
    case 'review':
    case 'finish':
      return Boolean(state.setupCompletedAt);
  }
}

/** The steps that save something and are not done yet, in order: finishing needs none left. */
export function unfinishedSteps(state: SetupState): SetupStepId[] {
  return SETUP_STEPS.map((s) => s.id).filter((id) => id !== 'review' && id !== 'finish' && !stepDone(state, id));
}

/** Where the setup opens: the first unfinished step, else the review. */
export function resumeStep(state: SetupState): SetupStepId {
  return unfinishedSteps(state)[0] ?? 'review';
}

export const stepLabel = (id: SetupStepId) => SETUP_STEPS.find((s) => s.id === id)!.label;
