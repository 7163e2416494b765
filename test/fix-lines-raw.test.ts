import { fixLineSuite } from './helpers/fix-lines.js';

// Raw, gzip and VHD images: see helpers/fix-lines.ts. The other containers run in fix-lines-containers.test.ts.
fixLineSuite(['raw', 'gzip', 'vhd'], { coverage: true });
