/** One training case as found on disk (paths may point at missing files: check-data reports them). */
export interface DatasetCase {
  id: string;
  /** One file per modality (nnU-Net's `_0000`, `_0001` suffixes) or a single 4D file holding them all (MSD). */
  imagePaths: string[];
  /** Undefined when no label is listed or found for the image. */
  labelPath: string | undefined;
}

export interface DatasetLabel {
  value: number;
  name: string;
}

/** A discovered dataset folder: absolute paths, declared modalities and classes, cases sorted by id. */
export interface Dataset {
  root: string;
  layout: 'msd' | 'plain';
  name: string;
  /** Declared modality names in channel order; empty when nothing declares them (plain layout, no dataset.json). */
  modalities: string[];
  /** Declared classes; undefined when nothing declares them (then any integer 0..255 is accepted). */
  labels: DatasetLabel[] | undefined;
  cases: DatasetCase[];
}
