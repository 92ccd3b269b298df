import { FedsegError } from '@fedseg/protocol';

/*
 * Errors libs/imaging throws on purpose. Each names the file (locally: these messages are printed by the site
 * agent and never sent to the coordinator) and the fault, with a stable `code` that callers match on.
 */

/** The file is not a NIfTI-1/2 image we can decode: bad magic, truncated data, corrupt gzip, odd header. */
export class NiftiFormatError extends FedsegError {
  constructor(
    readonly file: string,
    readonly fault: string,
  ) {
    super('NIFTI_INVALID', `${file}: ${fault}`, { fault });
  }
}

/** The file is NIfTI but stores something we do not decode (complex or RGB voxels, more than 5 dims...). */
export class NiftiUnsupportedError extends FedsegError {
  constructor(
    readonly file: string,
    readonly fault: string,
  ) {
    super('NIFTI_UNSUPPORTED', `${file}: ${fault}`, { fault });
  }
}

/** A volume cannot be written as asked (values outside the datatype's range, inconsistent shape). */
export class NiftiWriteError extends FedsegError {
  constructor(
    readonly file: string,
    readonly fault: string,
  ) {
    super('NIFTI_WRITE_FAILED', `${file}: ${fault}`, { fault });
  }
}

/** A dataset folder is not usable: missing, no dataset.json nor images/, malformed dataset.json. */
export class DatasetInvalidError extends FedsegError {
  constructor(
    readonly dir: string,
    readonly fault: string,
  ) {
    super('DATASET_INVALID', `${dir}: ${fault}`, { fault });
  }
}

/** A case cannot be loaded: unknown id, missing image or label file, image and label disagree. */
export class CaseInvalidError extends FedsegError {
  constructor(
    readonly caseId: string,
    readonly fault: string,
  ) {
    super('CASE_INVALID', `case ${caseId}: ${fault}`, { fault });
  }
}

/** Arguments to a preprocessing, sampling or metric function are inconsistent (shape, length, range). */
export class ImagingArgumentError extends FedsegError {
  constructor(message: string) {
    super('IMAGING_BAD_ARGUMENT', message);
  }
}

/** Site fingerprints that cannot be pooled (different modalities or class counts) or a plan that cannot be made. */
export class FingerprintError extends FedsegError {
  constructor(message: string) {
    super('FINGERPRINT_INVALID', message);
  }
}
