/** The loss sparkline: shared with the workflow's Web UI details, so it lives in the contract. */
export { sparkline, SPARKLINE_WIDTH } from '../contract/sparkline.js';
