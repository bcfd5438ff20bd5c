/** The command line from the repository (`npm run client -- …`): the package's `arkor-temporal` binary. */
import './cli/bin.js';
