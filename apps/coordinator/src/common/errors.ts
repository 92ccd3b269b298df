import { FedsegError } from '@fedseg/protocol';

export class StudyNotFoundError extends FedsegError {
  constructor(studyId: string) {
    super('STUDY_NOT_FOUND', `No study ${studyId}; GET /studies lists them.`, { studyId });
  }
}

export class StudyStateError extends FedsegError {
  constructor(message: string, details?: Record<string, unknown>) {
    super('STUDY_STATE_CONFLICT', message, details);
  }
}

export class SiteNotIdentifiedError extends FedsegError {
  constructor() {
    super('SITE_NOT_IDENTIFIED', 'Send agent:hello before any other message.');
  }
}

export class UpdateRejectedError extends FedsegError {
  constructor(code: string, message: string, details?: Record<string, unknown>) {
    super(code, message, details);
  }
}
