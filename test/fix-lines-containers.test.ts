import { fixLineSuite } from './helpers/fix-lines.js';

// VHDX, qcow2 and VMDK images: see helpers/fix-lines.ts.
fixLineSuite(['vhdx', 'qcow2', 'vmdk'], { coverage: false });
