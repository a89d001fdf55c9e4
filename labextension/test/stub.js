// What a stylesheet or SVG import is in unit tests.
module.exports = '';
