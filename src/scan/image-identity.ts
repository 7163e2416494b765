import { partitionGuids, type CheckReport } from '../report/check-report.js';
import { MAX_PARTITION_GUIDS_PER_IMAGE, type ImageIdentity } from './identity-collisions.js';

/**
 * What the collision store keeps of a report: its disk identity and the GUIDs of its first
 * partitions (read without building a long table's lazy list), so the report itself can go.
 */
export function imageIdentity(report: CheckReport): ImageIdentity {
  return { ...report.identity, partitions: partitionGuids(report, MAX_PARTITION_GUIDS_PER_IMAGE) };
}
