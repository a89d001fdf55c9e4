import './base.css';
import './sidebar.css';
import './runs.css';
import './features.css';
import './models.css';
import './evaluations.css';
import './handoffs.css';
import './deployments.css';
